import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { textOrientationModelFile } from '../../src/default-repository.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

// The real classifier with no config at all: its input is [-1, 3, -1, -1], so nothing can be
// measured until someone says how large a picture is. That used to end in a stack trace whose
// message named a --shape option that plan and profile did not have.
test(
  'plan and profile on a model with dynamic dims and no ' +
    '--shape end with one error line naming --shape, exit non-zero',
  async () => {
    const repo = await tempDir('tenancy-dynamic-');
    try {
      await mkdir(path.join(repo, 'cls', '1'), { recursive: true });
      await copyFile(textOrientationModelFile(), path.join(repo, 'cls', '1', 'model.onnx'));
      for (const command of ['plan', 'profile']) {
        const r = spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            'src/cli/main.ts',
            command,
            '--repo',
            repo,
            '--no-db',
            '--no-probe',
            '--window-ms',
            '50',
            '--warmup-ms',
            '0',
          ],
          { encoding: 'utf8' },
        );
        assert.ok(r.status !== null && r.status !== 0, `${command}: exit ${r.status}`);
        const last = r.stderr.trim().split('\n').at(-1)!;
        assert.match(
          last,
          new RegExp(
            '^error: model "cls" could not be measured on cpu: every configuration failed, ' +
              'the first with: input "x" of model "cls" has dynamic dims \\[3, -1, -1\\]' +
              ': give its shape, e\\.g\\. --shape x:3,1,1$',
          ),
          r.stderr,
        );
        assert.doesNotMatch(r.stderr, /^\s+at .*:\d+:\d+\)?$/m, `${command}: no stack trace`);
        const bad = spawnSync(
          process.execPath,
          ['--import', 'tsx', 'src/cli/main.ts', command, '--repo', repo, '--shape', 'x=3'],
          { encoding: 'utf8' },
        );
        assert.equal(bad.status, 2, bad.stderr);
        assert.match(bad.stderr.split('\n')[0], /expected NAME:D1,D2,\.\.\. such as x:3,48,192, got "x=3"/);
      }
    } finally {
      await removeDir(repo);
    }
  },
);
