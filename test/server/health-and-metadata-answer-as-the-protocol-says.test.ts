import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveClassifier, get, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

test('live and ready answer 200 with an empty body', async () => {
  for (const p of [
    '/v2/health/live',
    '/v2/health/ready',
    `/v2/models/${TEXT_ORIENTATION}/ready`,
    `/v2/models/${TEXT_ORIENTATION}/versions/1/ready`,
  ]) {
    const r = await get(s.http + p);
    assert.equal(r.status, 200, p);
    assert.equal(r.body, null, p);
  }
});

test('a model that is unknown or has no such version is not ready (400, as Triton)', async () => {
  assert.equal((await get(`${s.http}/v2/models/nope/ready`)).status, 400);
  assert.equal((await get(`${s.http}/v2/models/${TEXT_ORIENTATION}/versions/9/ready`)).status, 400);
});

test('GET /v2 names the server and lists the extensions it implements', async () => {
  const r = await get(`${s.http}/v2`);
  assert.equal(r.status, 200);
  assert.equal(r.body.name, 'tenancy');
  assert.match(r.body.version, /^\d+\.\d+\.\d+/);
  for (const e of ['binary_tensor_data', 'classification', 'model_configuration', 'model_repository', 'statistics'])
    assert.ok(r.body.extensions.includes(e), e);
});

test('model metadata gives inputs and outputs with -1 for the batch dimension', async () => {
  const expected = {
    name: TEXT_ORIENTATION,
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, 192] }],
    outputs: [{ name: OUTPUT, datatype: 'FP32', shape: [-1, 2] }],
  };
  assert.deepEqual((await get(`${s.http}/v2/models/${TEXT_ORIENTATION}`)).body, expected);
  assert.deepEqual((await get(`${s.http}/v2/models/${TEXT_ORIENTATION}/versions/1`)).body, expected);
});

test('the model configuration extension returns the Triton-style config in use', async () => {
  const r = await get(`${s.http}/v2/models/${TEXT_ORIENTATION}/config`);
  assert.equal(r.status, 200);
  assert.equal(r.body.name, TEXT_ORIENTATION);
  assert.equal(r.body.max_batch_size, 32);
  assert.deepEqual(r.body.input, [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, 48, 192] }]);
  assert.equal(r.body.instance_group[0].count, 1);
});

test('an unknown endpoint is a 404 with the protocol error body', async () => {
  const r = await get(`${s.http}/v2/nothing/here`);
  assert.equal(r.status, 404);
  assert.match(r.body.error, /no such endpoint: GET \/v2\/nothing\/here/);
});
