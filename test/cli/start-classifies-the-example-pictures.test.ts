import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { classifierRepo, removeDir } from '../fixtures/repo.js';

const run = promisify(execFile);

test('tenancy start classifies the shipped pictures after its self-check: 0 and 180', async () => {
  const repo = await classifierRepo();
  try {
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'start',
      '--repo',
      repo,
      '--no-serve',
      '--check-seconds',
      '0.1',
    ]);
    assert.match(stdout, /self-check/);
    assert.match(stdout, /text-0\.png\s+0\s+(0\.9\d+|1\.0+)\s/);
    assert.match(stdout, /text-180\.png\s+180\s+(0\.9\d+|1\.0+)\s/);
  } finally {
    await removeDir(repo);
  }
});
