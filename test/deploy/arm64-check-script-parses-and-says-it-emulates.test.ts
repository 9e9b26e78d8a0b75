import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// The check itself needs root, apt and ~2 minutes (npm run check:arm64); here: that it parses,
// that npm runs it, and that what it measures is labelled as emulated.
test('npm run check:arm64 is a valid bash script that installs for linux/arm64 and says it is emulated', () => {
  const file = 'scripts/arm64-emulated-check.sh';
  const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['check:arm64'], `bash ${file}`);
  const text = readFileSync(file, 'utf8');
  assert.match(text, /^set -euo pipefail$/m);
  assert.match(text, /simulated arm64 hardware|simulated hardware/);
  assert.match(text, /npm install --omit=dev --os=linux --cpu=arm64/);
  assert.match(text, /qemu-aarch64-static -L/);
});
