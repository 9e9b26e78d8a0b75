import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { serveClassifier, post, jsonInput, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

/** What the extension should answer, computed from engine.infer and labels.txt ("0", "180"). */
async function expected(x: ReturnType<typeof classifierInput>, k: number): Promise<string[]> {
  const p = (await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array;
  const rows: string[] = [];
  for (let r = 0; r < x.shape[0]; r++) {
    const row = [0, 1]
      .map((i) => ({ i, v: p[r * 2 + i] }))
      .sort((a, b) => b.v - a.v)
      .slice(0, k);
    rows.push(...row.map(({ i, v }) => `${v.toFixed(6)}:${i}:${['0', '180'][i]}`));
  }
  return rows;
}

test('classification k on an output returns BYTES "score:index:label", best first, per batch row', async () => {
  const x = classifierInput(2, 9);
  const r = await post(`${s.http}/v2/models/${TEXT_ORIENTATION}/infer`, {
    inputs: [jsonInput(x)],
    outputs: [{ name: OUTPUT, parameters: { classification: 1 } }],
  });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.outputs, [{ name: OUTPUT, datatype: 'BYTES', shape: [2, 1], data: await expected(x, 1) }]);
});

test('k larger than the number of classes returns every class', async () => {
  const x = classifierInput(1, 2);
  const r = await post(`${s.http}/v2/models/${TEXT_ORIENTATION}/infer`, {
    inputs: [jsonInput(x)],
    outputs: [{ name: OUTPUT, parameters: { classification: 5 } }],
  });
  assert.deepEqual(r.body.outputs[0].shape, [1, 2]);
  assert.deepEqual(r.body.outputs[0].data, await expected(x, 2));
});

test('classification comes back the same over HTTP binary and gRPC', async () => {
  const x = classifierInput(1, 6);
  const want = await expected(x, 2);
  const http = new HttpClient(s.http);
  const grpc = new GrpcClient(s.grpc);
  try {
    for (const c of [http, grpc]) {
      const r = await c.infer(TEXT_ORIENTATION, { x }, { outputs: [OUTPUT], classification: 2 });
      assert.equal(r.outputs[OUTPUT].datatype, 'BYTES');
      assert.deepEqual(r.outputs[OUTPUT].data, want);
    }
  } finally {
    grpc.close();
  }
});
