import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFor, profileConfigs, profileOutstanding, type DeviceInfo } from '../../src/placement/index.js';
import { validateModelConfig } from '../../src/repository/index.js';

const cpu = (n: number, id = 'cpu'): DeviceInfo => ({
  id,
  kind: 'cpu',
  available: true,
  cores: Array.from({ length: n }, (_, i) => i),
  description: 'CPU',
  memoryBytes: 2 ** 30,
  simulated: false,
});
const shape = (c: { instances: number; threads: number; batching: { maxBatchSize: number } | null }) =>
  `${c.instances}x${c.threads}${c.batching ? `b${c.batching.maxBatchSize}` : ''}`;

test("configurations use at most the device's cores: instances x threads", () => {
  assert.deepEqual(profileConfigs(cpu(2), 32).map(shape), ['1x1', '1x1b4', '1x2', '1x2b4', '2x1', '2x1b4']);
  assert.deepEqual(profileConfigs(cpu(1), 0).map(shape), ['1x1'], 'no batch dimension: no batching');
  const four = profileConfigs(cpu(4), 0).map(shape);
  assert.deepEqual(four, ['1x1', '1x2', '1x4', '2x1', '2x2', '3x1', '4x1']);
  assert.deepEqual(
    profileConfigs(cpu(2), 2, { batchSizes: [2, 8] }).map(shape),
    ['1x1', '1x1b2', '1x2', '1x2b2', '2x1', '2x1b2'],
    'batches beyond max_batch_size are left out',
  );
  const gpu: DeviceInfo = {
    id: 'gpu:0',
    kind: 'gpu',
    available: true,
    description: 'GPU',
    memoryBytes: 0,
    simulated: false,
  };
  assert.deepEqual(profileConfigs(gpu, 0).map(shape), ['1x1', '2x1']);
});

test('each configuration is a valid model config placing the instances on the device', () => {
  const base = {
    name: 'm',
    max_batch_size: 8,
    input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3] }],
    output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [2] }],
    instance_group: [{ count: 3, kind: 'KIND_CPU', host: 'process' }],
    dynamic_batching: { max_queue_delay_microseconds: 100 },
    parameters: { intra_op_thread_count: { string_value: '4' }, source: { string_value: 'kept' } },
  };
  const plain = configFor(base, cpu(2, 'cpu:big'), { instances: 2, threads: 1, batching: null });
  assert.deepEqual(plain.instance_group, [
    { count: 2, kind: 'KIND_CPU', device: 'cpu:big', host: 'process', threads: 1 },
  ]);
  assert.equal(plain.dynamic_batching, undefined, "the model's own batching is off in an unbatched configuration");
  assert.deepEqual(
    plain.parameters,
    { source: { string_value: 'kept' } },
    'a model-wide thread count would override the configuration',
  );
  const batched = configFor(base, cpu(2), { instances: 1, threads: 2, batching: { maxBatchSize: 4, delayUs: 0 } });
  assert.deepEqual(batched.dynamic_batching, { preferred_batch_size: [4], max_queue_delay_microseconds: 0 });
  assert.equal(batched.max_batch_size, 8, 'clients may still send their own batches');
  for (const c of [plain, batched]) validateModelConfig(c, 'override', 'm');
  assert.equal(base.instance_group[0].count, 3, 'the base config is not changed');
  assert.equal(profileOutstanding({ instances: 2, threads: 1, batching: null }), 4);
  assert.equal(profileOutstanding({ instances: 2, threads: 1, batching: { maxBatchSize: 4, delayUs: 0 } }), 16);
});
