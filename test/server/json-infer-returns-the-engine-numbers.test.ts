import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { classifierInput } from '../fixtures/repo.js';
import { flatValues } from '../../src/protocol/tensor-wire.js';
import { serveClassifier, post, jsonInput, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

const url = () => `${s.http}/v2/models/${TEXT_ORIENTATION}/infer`;

test('a JSON infer returns the same numbers as engine.infer, as FP32 values', async () => {
  const x = classifierInput(2, 7);
  const want = await s.engine.infer(TEXT_ORIENTATION, { x });
  const r = await post(url(), { inputs: [jsonInput(x)] });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(r.body.model_name, TEXT_ORIENTATION);
  assert.equal(r.body.model_version, '1');
  assert.deepEqual(r.body.outputs, [
    { name: OUTPUT, datatype: 'FP32', shape: [2, 2], data: Array.from(want.outputs[OUTPUT].data as Float32Array) },
  ]);
});

test('nested data is accepted as well as flat data, and the id is echoed', async () => {
  const x = classifierInput(1, 3);
  const flat = Array.from(x.data as Float32Array);
  const nested = [
    [0, 1, 2].map((c) => Array.from({ length: 48 }, (_, h) => flat.slice((c * 48 + h) * 192, (c * 48 + h + 1) * 192))),
  ];
  const a = await post(url(), { id: 'req-42', inputs: [{ ...jsonInput(x), data: nested }] });
  const b = await post(url(), { inputs: [jsonInput(x)] });
  assert.equal(a.status, 200);
  assert.equal(a.body.id, 'req-42');
  assert.equal(b.body.id, undefined);
  assert.deepEqual(a.body.outputs, b.body.outputs);
});

test('data nested deeper than a call stack gets a 400 that counts its elements, and the server serves on', async () => {
  // 100 000 levels: JSON.parse takes it; Array.prototype.flat(Infinity) overflowed the stack here.
  const depth = 100_000;
  const deep =
    `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3,48,192],"data":` +
    `${'['.repeat(depth)}0.5${']'.repeat(depth)}}]}`;
  const r = await post(url(), deep);
  assert.equal(r.status, 400);
  assert.match(r.body.error, /input "x": data has 1 elements, but shape \[1, 3, 48, 192\] needs 27648/);
  const good = await post(url(), { inputs: [jsonInput(classifierInput(1))] });
  assert.equal(good.status, 200);
});

test('flatValues returns a flat list as it is and flattens nested lists in row-major order', () => {
  const flat = [1, 2, 3];
  assert.equal(flatValues(flat), flat);
  assert.deepEqual(flatValues([[[1, 2], [3]], [], [[4], 5]]), [1, 2, 3, 4, 5]);
  assert.deepEqual(flatValues([]), []);
});

test('a versioned URL and an outputs list are honoured', async () => {
  const r = await post(`${s.http}/v2/models/${TEXT_ORIENTATION}/versions/1/infer`, {
    inputs: [jsonInput(classifierInput(1))],
    outputs: [{ name: OUTPUT }],
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.model_version, '1');
  assert.deepEqual(
    r.body.outputs.map((o: { name: string }) => o.name),
    [OUTPUT],
  );
});

test("the protocol's own example request shape (parameters, outputs with parameters) is served", async () => {
  // After the Open Inference Protocol's "Inference Request Examples", with this model's tensor.
  const x = classifierInput(1, 5);
  const r = await post(url(), {
    id: '42',
    parameters: { timeout: 5_000_000 },
    inputs: [
      { name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', parameters: {}, data: Array.from(x.data as Float32Array) },
    ],
    outputs: [{ name: OUTPUT, parameters: {} }],
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.id, '42');
  assert.equal(r.body.outputs[0].shape.join(','), '1,2');
  const [p0, p1] = r.body.outputs[0].data;
  assert.ok(Math.abs(p0 + p1 - 1) < 1e-5, 'softmax sums to 1');
});
