import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { tensorToRaw } from '../../src/server/oip/tensor-wire.js';
import { serveClassifier, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

// One instance, a queue kept busy with batches of 32: a request sent now waits long enough for its
// client to go away, and the server must then drop it (a failure in the statistics, no run),
// while every other request is served.
let s: Served;
before(async () => (s = await serveClassifier({}, async () => {}, { instance_group: [{ count: 1, kind: 'KIND_CPU' }] })));
after(() => s.close());

const failures = () => s.engine.stats(TEXT_ORIENTATION)[0].inference_stats.fail.count;
/** Twelve batches of 32 (several ms each), sent; resolves once most of them wait in the queue. */
async function busy(client: HttpClient): Promise<Promise<unknown>[]> {
  const load = Array.from({ length: 12 }, () => client.infer(TEXT_ORIENTATION, { x: classifierInput(32) }));
  const model = () => s.engine.loaded().find((m) => m.name === TEXT_ORIENTATION)!;
  while (model().queued < 8) await new Promise((r) => setTimeout(r, 2));
  return load;
}
/** Long enough for the idle main thread to queue a small request; far less than the queued work. */
const QUEUED_MS = 50;

test('gRPC: a cancelled ModelInfer call is dropped from the queue; the server goes on serving', async () => {
  const http1 = new HttpClient(s.http);
  const grpc = new GrpcClient(s.grpc);
  const before = failures();
  const load = await busy(http1);
  const x = classifierInput(1);
  const g = grpc as unknown as { client: { ModelInfer(req: unknown, cb: (err: { code: number } | null) => void): { cancel(): void } } };
  const outcome = new Promise<number>((resolve) => {
    const call = g.client.ModelInfer(
      { model_name: TEXT_ORIENTATION, inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }], raw_input_contents: [tensorToRaw(x)] },
      (err) => resolve(err ? err.code : 0),
    );
    setTimeout(() => call.cancel(), QUEUED_MS);
  });
  assert.equal(await outcome, 1, 'the client sees CANCELLED');
  await Promise.all(load);
  assert.equal(failures(), before + 1, 'the server counted the dropped request as a failure');
  const after = await grpc.infer(TEXT_ORIENTATION, { x });
  assert.deepEqual(after.outputs['softmax_0.tmp_0'].shape, [1, 2]);
  grpc.close();
  http1.close();
});

test('HTTP: a client that closes its connection has its request dropped; the server goes on serving', async () => {
  const client = new HttpClient(s.http);
  const before = failures();
  const load = await busy(client);
  const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], data: Array.from(classifierInput(1).data as Float32Array) }] });
  await new Promise<void>((resolve) => {
    const req = http.request(`${s.http}/v2/models/${TEXT_ORIENTATION}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => resolve());
    req.end(body, () => setTimeout(() => req.destroy(), QUEUED_MS));
  });
  await Promise.all(load);
  // The drop is counted when the queue reaches it or at once: wait for the statistics to say so.
  for (let i = 0; i < 50 && failures() === before; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(failures(), before + 1, 'the server counted the dropped request as a failure');
  const after = await client.infer(TEXT_ORIENTATION, { x: classifierInput(1) });
  assert.deepEqual(after.outputs['softmax_0.tmp_0'].shape, [1, 2]);
  client.close();
});
