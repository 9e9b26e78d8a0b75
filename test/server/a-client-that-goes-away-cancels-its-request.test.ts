import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { tensorToRaw } from '../../src/protocol/tensor-wire.js';
import { serveClassifier, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

// The dynamic batcher holds a 1-row request up to 30 s for a batch of 32 to fill, so a request
// sent alone waits in the queue until its client goes away; the server must then drop it (a
// failure in the statistics, no run) and serve the next request as usual. A full batch of 32 runs
// at once.
let s: Served;
before(
  async () =>
    (s = await serveClassifier({}, async () => {}, {
      instance_group: [{ count: 1, kind: 'KIND_CPU' }],
      dynamic_batching: { preferred_batch_size: [32], max_queue_delay_microseconds: 30_000_000 },
    })),
);
after(() => s.close());

const model = () => s.engine.loaded().find((m) => m.name === TEXT_ORIENTATION)!;
const failures = () => s.engine.stats(TEXT_ORIENTATION)[0].inference_stats.fail.count;

/** Resolves when `check` holds; fails the test (instead of hanging) after 20 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function servesAFullBatch(client: HttpClient | GrpcClient): Promise<void> {
  const r = await client.infer(TEXT_ORIENTATION, { x: classifierInput(32) });
  assert.deepEqual(r.outputs[OUTPUT].shape, [32, 2]);
}

test('gRPC: a cancelled ModelInfer call is dropped from the queue; the server goes on serving', async () => {
  const grpc = new GrpcClient(s.grpc);
  const before = failures();
  const x = classifierInput(1);
  const g = grpc as unknown as {
    client: { ModelInfer(req: unknown, cb: (err: { code: number } | null) => void): { cancel(): void } };
  };
  let call: { cancel(): void } | undefined;
  const outcome = new Promise<number>((resolve) => {
    call = g.client.ModelInfer(
      {
        model_name: TEXT_ORIENTATION,
        inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }],
        raw_input_contents: [tensorToRaw(x)],
      },
      (err) => resolve(err ? err.code : 0),
    );
  });
  await until(() => model().queued === 1, 'the request is queued');
  call!.cancel();
  assert.equal(await outcome, 1, 'the client sees CANCELLED');
  await until(() => failures() === before + 1, 'the server counts the dropped request as a failure');
  assert.equal(model().queued, 0);
  await servesAFullBatch(grpc);
  grpc.close();
});

test('HTTP: a client that closes its connection has its request dropped; the server goes on serving', async () => {
  const before = failures();
  const body = JSON.stringify({
    inputs: [
      {
        name: 'x',
        datatype: 'FP32',
        shape: [1, 3, 48, 192],
        data: Array.from(classifierInput(1).data as Float32Array),
      },
    ],
  });
  const req = http.request(`${s.http}/v2/models/${TEXT_ORIENTATION}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  const closed = new Promise<void>((resolve) => req.on('error', () => resolve()).on('close', () => resolve()));
  req.end(body);
  await until(() => model().queued === 1, 'the request is queued');
  req.destroy();
  await closed;
  await until(() => failures() === before + 1, 'the server counts the dropped request as a failure');
  assert.equal(model().queued, 0);
  const client = new HttpClient(s.http);
  await servesAFullBatch(client);
  client.close();
});

test(
  'gRPC stream: a cancelled ModelStreamInfer drops the requests it has queued; ' + 'the server goes on serving',
  async () => {
    const grpc = new GrpcClient(s.grpc);
    const before = failures();
    const stream = grpc.stream();
    const outcomes = [1, 2].map((seed) =>
      stream.infer(TEXT_ORIENTATION, { x: classifierInput(1, seed) }).then(
        () => 'answered',
        (e: Error) => e.message,
      ),
    );
    await until(() => model().queued === 2, 'both requests are queued');
    stream.cancel();
    assert.deepEqual(await Promise.all(outcomes), ['Cancelled on client', 'Cancelled on client']);
    await until(() => failures() === before + 2, 'the server counts both dropped requests as failures');
    assert.equal(model().queued, 0);
    await servesAFullBatch(grpc);
    grpc.close();
  },
);
