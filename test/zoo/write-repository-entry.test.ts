import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { buildZooModel, writeZooModel } from '../../src/zoo/index.js';

test('writeZooModel writes config.json with Triton field names and 1/model.onnx', async (t) => {
  const repo = await mkdtemp(join(tmpdir(), 'zoo-repo-'));
  t.after(() => rm(repo, { recursive: true, force: true }));

  const dir = await writeZooModel(repo, 'mobilenet_v2', { inputSize: 64, widthMultiplier: 0.5, seed: 3 });
  assert.equal(dir, join(repo, 'mobilenet_v2'));
  assert.deepEqual((await readdir(dir)).sort(), ['1', 'config.json']);

  const expected = buildZooModel('mobilenet_v2', { inputSize: 64, widthMultiplier: 0.5, seed: 3 });
  const onnx = await readFile(join(dir, '1', 'model.onnx'));
  assert.ok(onnx.equals(Buffer.from(expected.bytes)), 'model.onnx differs from the built model');

  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(config, {
    name: 'mobilenet_v2',
    platform: 'onnxruntime_onnx',
    max_batch_size: 32,
    input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [3, 64, 64] }],
    output: [{ name: 'logits', data_type: 'TYPE_FP32', dims: [1000] }],
    dynamic_batching: {},
    parameters: {
      zoo_architecture: { string_value: 'mobilenet_v2' },
      zoo_options: { string_value: 'input=64 width=0.5 seed=3' },
      parameter_count: { string_value: String(expected.parameterCount) },
    },
  });
});

test('writeZooModel honours modelName, instanceCount and maxBatchSize', async (t) => {
  const repo = await mkdtemp(join(tmpdir(), 'zoo-repo-'));
  t.after(() => rm(repo, { recursive: true, force: true }));

  const dir = await writeZooModel(repo, 'squeezenet1_1', {
    inputSize: 32,
    modelName: 'squeeze-small',
    instanceCount: 3,
    maxBatchSize: 8,
  });
  assert.equal(dir, join(repo, 'squeeze-small'));
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  assert.equal(config.name, 'squeeze-small');
  assert.equal(config.max_batch_size, 8);
  assert.deepEqual(config.instance_group, [{ count: 3, kind: 'KIND_CPU' }]);
  assert.equal(config.parameters.zoo_architecture.string_value, 'squeezenet1_1');
  assert.equal(config.parameters.parameter_count.string_value, '1235496');
});
