import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateModelConfig, completeFromOnnx } from '../../src/repository/index.js';
import type { OnnxMetadata } from '../../src/repository/index.js';

const FILE = 'repo/m/config.json';
const bad: [string, unknown, RegExp][] = [
  ['a misspelt field', { instance_groups: [] }, /repo\/m\/config\.json: field "instance_groups" is not a known field/],
  [
    'a name that differs from the folder',
    { name: 'other' },
    /field "name" must match the model's folder name "m", got "other"/,
  ],
  ['a negative max_batch_size', { max_batch_size: -2 }, /field "max_batch_size" must be an integer >= 0, got -2/],
  [
    'an unknown data_type',
    { input: [{ name: 'x', data_type: 'TYPE_FLOAT', dims: [3] }] },
    /field "input\[0\]\.data_type" must be one of TYPE_BOOL.*, got "TYPE_FLOAT"/,
  ],
  [
    'a zero dimension',
    { input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, 0] }] },
    /field "input\[0\]\.dims" must be an array of at most 64 positive integers or -1, got \[3,0\]/,
  ],
  [
    'an instance count of 0',
    { instance_group: [{ count: 0 }] },
    /field "instance_group\[0\]\.count" must be an integer from 1 to 256, got 0/,
  ],
  [
    'an unknown kind',
    { instance_group: [{ kind: 'KIND_TPU' }] },
    /field "instance_group\[0\]\.kind" must be "KIND_CPU", "KIND_GPU" or "KIND_AUTO", got "KIND_TPU"/,
  ],
  [
    'an unknown device',
    { instance_group: [{ device: 'npu' }] },
    /field "instance_group\[0\]\.device" must be "cpu", "cpu:NAME", "gpu:N" or "sim:NAME", got "npu"/,
  ],
  [
    'an unknown host',
    { instance_group: [{ host: 'vm' }] },
    /field "instance_group\[0\]\.host" must be "thread" or "process", got "vm"/,
  ],
  [
    'a bad thread count',
    { parameters: { intra_op_thread_count: { string_value: 'two' } } },
    /field "parameters\.intra_op_thread_count\.string_value" must be a positive integer up to 256, got "two"/,
  ],
  [
    'a parameter without string_value',
    { parameters: { a: 1 } },
    /field "parameters\.a" must be \{"string_value": "\.\.\."\}, got 1/,
  ],
  [
    'a bad queue size',
    { queue_policy: { max_queue_size: 1.5 } },
    /field "queue_policy\.max_queue_size" must be an integer >= 0, got 1\.5/,
  ],
  [
    'an empty specific version list',
    { version_policy: { specific: { versions: [] } } },
    /field "version_policy\.specific\.versions" must be a non-empty array/,
  ],
  [
    'dynamic batching on a model without a batch dimension',
    { max_batch_size: 0, dynamic_batching: {} },
    /field "dynamic_batching" needs max_batch_size > 0/,
  ],
  [
    'a preferred batch size over max_batch_size',
    { max_batch_size: 8, dynamic_batching: { preferred_batch_size: [4, 16] } },
    new RegExp(
      'field "dynamic_batching\\.preferred_batch_size" must be at most 64' +
        ' batch sizes from 1 to max_batch_size \\(8\\), got \\[4,16\\]',
    ),
  ],
  [
    'a negative queue delay',
    { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: -1 } },
    /field "dynamic_batching\.max_queue_delay_microseconds" must be an integer >= 0, got -1/,
  ],
  [
    'a default priority level out of range',
    { max_batch_size: 8, dynamic_batching: { priority_levels: 2, default_priority_level: 3 } },
    /field "dynamic_batching\.default_priority_level" must be a level from 1 to priority_levels \(2\), got 3/,
  ],
  [
    'an unknown timeout action',
    { max_batch_size: 8, dynamic_batching: { default_queue_policy: { timeout_action: 'DROP' } } },
    /field "dynamic_batching\.default_queue_policy\.timeout_action" must be "REJECT" or "DELAY", got "DROP"/,
  ],
  [
    'a queue policy for a level that does not exist',
    { max_batch_size: 8, dynamic_batching: { priority_levels: 2, priority_queue_policy: { 5: {} } } },
    new RegExp(
      'field "dynamic_batching\\.priority_queue_policy" keys must be' +
        ' priority levels from 1 to priority_levels \\(2\\), got "5"',
    ),
  ],
  [
    'a path as model filename',
    { default_model_filename: '../x.onnx' },
    /field "default_model_filename" must be a plain file name, got "\.\.\/x\.onnx"/,
  ],
];

for (const [what, raw, pattern] of bad) {
  test(`config with ${what} is refused naming the file, field and value`, () => {
    assert.throws(
      () => validateModelConfig(raw, FILE, 'm'),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INVALID_ARG');
        assert.match(e.message, pattern);
        return true;
      },
    );
  });
}

test('an empty config gets Triton-like defaults', () => {
  const c = validateModelConfig({}, FILE, 'm');
  assert.equal(c.name, 'm');
  assert.deepEqual(c.instance_group, [{ count: 1, kind: 'KIND_CPU', host: 'thread', device: 'cpu' }]);
  assert.deepEqual(c.version_policy, { latest: { num_versions: 1 } });
  assert.equal(c.queue_policy.max_queue_size, 1024);
  assert.equal(c.max_batch_size, -1, 'left for the model file to decide');
});

const meta: OnnxMetadata = {
  irVersion: 8,
  opsets: { 'ai.onnx': 13 },
  producer: 'test',
  inputs: [{ name: 'input', datatype: 'FP32', dims: [-1, 3, 32, 32], dimNames: ['N', '', '', ''] }],
  outputs: [{ name: 'logits', datatype: 'FP32', dims: [-1, 10], dimNames: ['N', ''] }],
};

test('dynamic batching gets Triton defaults, and per-level policies inherit the default policy', () => {
  const c = validateModelConfig(
    {
      max_batch_size: 8,
      dynamic_batching: {
        priority_levels: 2,
        default_queue_policy: { max_queue_size: 5 },
        priority_queue_policy: { 1: { timeout_action: 'DELAY' } },
      },
    },
    FILE,
    'm',
  );
  const db = c.dynamic_batching!;
  assert.deepEqual(
    [db.preferred_batch_size, db.max_queue_delay_microseconds, db.preserve_ordering, db.default_priority_level],
    [[], 0, false, 2],
  );
  assert.equal(db.default_queue_policy.max_queue_size, 5);
  assert.deepEqual(db.priority_queue_policy['1'], { ...db.default_queue_policy, timeout_action: 'DELAY' });
});

test('inputs and outputs left out of the config are read from the model file', () => {
  const c = completeFromOnnx(validateModelConfig({}, FILE, 'm'), meta, FILE);
  assert.equal(c.max_batch_size, 4, "Triton's default when every tensor has a dynamic batch dimension");
  assert.deepEqual(c.input, [{ name: 'input', data_type: 'TYPE_FP32', dims: [3, 32, 32] }]);
  assert.deepEqual(c.output, [{ name: 'logits', data_type: 'TYPE_FP32', dims: [10] }]);
});

test('a config that disagrees with the model file is refused with both values', () => {
  const wrongType = validateModelConfig(
    { max_batch_size: 8, input: [{ name: 'input', data_type: 'TYPE_INT64', dims: [3, 32, 32] }] },
    FILE,
    'm',
  );
  assert.throws(
    () => completeFromOnnx(wrongType, meta, FILE),
    /field "input\[0\]\.data_type" must be TYPE_FP32 as in the model file, got "TYPE_INT64"/,
  );
  const wrongDims = validateModelConfig(
    { max_batch_size: 8, input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [3, 64, 64] }] },
    FILE,
    'm',
  );
  assert.throws(() => completeFromOnnx(wrongDims, meta, FILE), /must match the model file's dims \[3, 32, 32\]/);
  const wrongName = validateModelConfig(
    { input: [{ name: 'image', data_type: 'TYPE_FP32', dims: [3, 32, 32] }] },
    FILE,
    'm',
  );
  assert.throws(
    () => completeFromOnnx(wrongName, meta, FILE),
    /field "input\[0\]\.name" must name a model input \(the file has: input\), got "image"/,
  );
  const fixedBatch = { ...meta, inputs: [{ ...meta.inputs[0], dims: [1, 3, 32, 32] }] };
  assert.throws(
    () => completeFromOnnx(validateModelConfig({ max_batch_size: 8 }, FILE, 'm'), fixedBatch, FILE),
    /max_batch_size" must be 0/,
  );
});
