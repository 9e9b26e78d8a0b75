import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const footprint = (...args: string[]) =>
  spawnSync(process.execPath, ['scripts/footprint.mjs', ...args], { encoding: 'utf8', timeout: 30_000 });

test('npm run footprint: a bad argument is one line on stderr and exit 1, before anything is packed', () => {
  for (const [args, message] of [
    [['--bogus'], /^error: footprint: unknown argument "--bogus" \(usage: footprint \[--dir DIR\]/],
    [['--reuse'], /^error: footprint: --reuse needs --dir DIR of an earlier install$/],
    [['--env', 'novalue'], /^error: footprint: --env takes NAME=VALUE$/],
    [
      ['--dir', '/nonexistent/tenancy-footprint', '--reuse'],
      /^error: footprint: --reuse: .* holds no install of tenancy$/,
    ],
  ] as const) {
    const r = footprint(...args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
  }
});
