import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { Command, CommanderError } from 'commander';

import { registerZooCommand } from '../../src/cli/zoo.js';

/** Runs `tenancy zoo ...args`; returns the exit code and what went to stderr. */
async function zoo(args: string[]): Promise<{ exitCode: number; stderr: string }> {
  const stderr: string[] = [];
  const program = new Command('tenancy')
    .exitOverride()
    .configureOutput({ writeErr: (s) => stderr.push(s), writeOut: () => {} });
  registerZooCommand(program);
  try {
    await program.parseAsync(['zoo', ...args], { from: 'user' });
    return { exitCode: 0, stderr: stderr.join('') };
  } catch (err) {
    assert.ok(err instanceof CommanderError, `expected a CommanderError, got ${String(err)}`);
    return { exitCode: err.exitCode, stderr: stderr.join('') };
  }
}

test('tenancy zoo exits with 2, naming the bad value and the accepted ones, and writes nothing', async (t) => {
  const repo = await mkdtemp(join(tmpdir(), 'zoo-cli-'));
  t.after(() => rm(repo, { recursive: true, force: true }));
  const cases: [string[], RegExp][] = [
    [
      ['resnet34', '--out', repo],
      /'resnet34'.*mobilenet_v1, mobilenet_v2, resnet18, resnet50, squeezenet1_1, inception_v3/,
    ],
    [['--out', repo, '--input-size', 'big'], /'big'.*integer >= 1/],
    [['--out', repo, '--input-size', '64'], /inputSize 64 .*inception_v3.*>= 75/],
    [['resnet18', '--out', repo, '--input-size', '16'], /inputSize 16 .*resnet18.*>= 32/],
    [['mobilenet_v2', '--out', repo, '--width', '0'], /'0'.*> 0/],
    [['mobilenet_v2', '--out', repo, '--width', 'wide'], /'wide'.*> 0/],
    [['resnet50', '--out', repo, '--width', '0.5'], /widthMultiplier 0\.5 .*resnet50.*mobilenet_v1, mobilenet_v2/],
    [['squeezenet1_1', '--out', repo, '--seed', '-3'], /'-3'.*integer >= 0/],
    [['squeezenet1_1', '--out', repo, '--instances', '0'], /'0'.*integer >= 1/],
    [['squeezenet1_1'], /--out <dir>/],
  ];
  for (const [args, message] of cases) {
    const { exitCode, stderr } = await zoo(args);
    assert.equal(exitCode, 2, `zoo ${args.join(' ')}: exit code ${exitCode}, stderr ${stderr}`);
    assert.match(stderr, message, `zoo ${args.join(' ')}`);
  }
  assert.deepEqual(await readdir(repo), []);
});
