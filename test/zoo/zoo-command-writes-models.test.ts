import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { Command } from 'commander';

import { registerZooCommand } from '../../src/cli/zoo.js';

test('tenancy zoo writes each named model and prints its count against the published one, size and path', async (t) => {
  const repo = await mkdtemp(join(tmpdir(), 'zoo-cli-'));
  t.after(() => rm(repo, { recursive: true, force: true }));
  const out: string[] = [];
  const program = new Command('tenancy').exitOverride().configureOutput({ writeOut: (s) => out.push(s) });
  registerZooCommand(program);

  await program.parseAsync(
    ['zoo', 'squeezenet1_1', 'mobilenet_v1', '--out', repo, '--input-size', '64', '--seed', '5', '--instances', '2'],
    { from: 'user' },
  );

  assert.deepEqual((await readdir(repo)).sort(), ['mobilenet_v1', 'squeezenet1_1']);
  const lines = out.join('').trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(
    lines[0]!,
    /^squeezenet1_1 +1,235,496 params +\(published 1,235,496, \+0\.00%\) +5\.0 MB +\S+model\.onnx$/,
  );
  assert.match(lines[1]!, /^mobilenet_v1 +4,231,976 params +\(published 4,231,976, \+0\.00%\) +\d+\.\d MB /);
  assert.ok(lines[0]!.endsWith(join(repo, 'squeezenet1_1', '1', 'model.onnx')));

  const config = JSON.parse(await readFile(join(repo, 'squeezenet1_1', 'config.json'), 'utf8'));
  assert.deepEqual(config.input[0].dims, [3, 64, 64]);
  assert.deepEqual(config.instance_group, [{ count: 2, kind: 'KIND_CPU' }]);
  assert.equal(config.parameters.zoo_options.string_value, 'input=64 width=1 seed=5');
});
