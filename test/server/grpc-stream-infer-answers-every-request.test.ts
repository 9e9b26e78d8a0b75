import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient } from '../../src/client/index.js';
import { loadInferenceService } from '../../src/server/grpc/proto.js';
import { tensorToRaw } from '../../src/server/oip/tensor-wire.js';
import { serveClassifier, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

const engineOutput = async (seed: number) => Array.from((await s.engine.infer(TEXT_ORIENTATION, { x: classifierInput(1, seed) })).outputs[OUTPUT].data as Float32Array);

test('requests on one ModelStreamInfer call each get their own answer with the engine numbers', async () => {
  const client = new GrpcClient(s.grpc);
  const stream = client.stream();
  try {
    const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
    const results = await Promise.all(seeds.map((seed) => stream.infer(TEXT_ORIENTATION, { x: classifierInput(1, seed) }, seed % 3 === 0 ? { id: `req-${seed}` } : {})));
    for (const [i, r] of results.entries()) {
      const seed = seeds[i];
      assert.deepEqual(Array.from(r.outputs[OUTPUT].data as Float32Array), await engineOutput(seed), `seed ${seed}`);
      assert.equal(r.id, seed % 3 === 0 ? `req-${seed}` : undefined, 'a given id is echoed, a stream-local one is not shown');
      assert.equal(r.model_version, '1');
    }
    await assert.rejects(
      Promise.all([stream.infer(TEXT_ORIENTATION, { x: classifierInput(1) }, { id: 'twice' }), stream.infer(TEXT_ORIENTATION, { x: classifierInput(1) }, { id: 'twice' })]),
      /request id "twice" is already waiting for its answer on this stream/,
    );
    const ending = stream.end();
    await assert.rejects(stream.infer(TEXT_ORIENTATION, { x: classifierInput(1) }), /the stream is closing \(end\(\) was called\)/);
    await ending;
    assert.equal(stream.failed, true);
    await assert.rejects(stream.infer(TEXT_ORIENTATION, { x: classifierInput(1) }), /the stream ended/);
  } finally {
    client.close();
  }
});

type Answer = { error_message: string; infer_response: { model_name: string; id: string; raw_output_contents: Buffer[] } };

test("a failed request's answer carries error_message and its id, the stream goes on, and a half-close ends it after the last answer", async () => {
  // A raw grpc-js stream, as Triton's clients see the messages.
  const Service = loadInferenceService();
  const client = new Service(s.grpc, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }) as unknown as grpc.Client & { ModelStreamInfer(): grpc.ClientDuplexStream<unknown, Answer> };
  const call = client.ModelStreamInfer();
  const answers: Answer[] = [];
  const ended = new Promise<grpc.StatusObject>((resolve) => {
    call.on('data', (a: Answer) => answers.push(a));
    call.on('status', resolve);
  });
  const x = classifierInput(1, 7);
  const good = (id: string) => ({ model_name: TEXT_ORIENTATION, id, inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }], raw_input_contents: [tensorToRaw(x)] });
  call.write({ ...good('unknown'), model_name: 'nope' });
  call.write({ ...good('shape'), inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 191] }] });
  call.write({ ...good('datatype'), inputs: [{ name: 'x', datatype: 'FP31', shape: x.shape }] });
  call.write(good('fine'));
  call.end();
  const status = await ended;
  client.close();
  assert.equal(status.code, grpc.status.OK);
  const byId = new Map(answers.map((a) => [a.infer_response.id, a]));
  assert.equal(answers.length, 4, 'one answer per request');
  assert.match(byId.get('unknown')!.error_message, /unknown model "nope" \(known: text_orientation\)/);
  assert.equal(byId.get('unknown')!.infer_response.model_name, 'nope');
  assert.match(byId.get('shape')!.error_message, /input "x"/);
  assert.match(byId.get('datatype')!.error_message, /unknown datatype "FP31"/);
  assert.equal(byId.get('fine')!.error_message, '');
  assert.deepEqual(Array.from(new Float32Array(new Uint8Array(byId.get('fine')!.infer_response.raw_output_contents[0]).buffer)), await engineOutput(7));
});

test('a graceful shutdown answers what a stream has in flight, refuses what comes meanwhile by name, and ends it with UNAVAILABLE', async () => {
  // The batcher holds a lone request up to 1 s for a fuller batch: 'queued' is in flight when the
  // shutdown starts, and 'late' arrives while it waits.
  const own = await serveClassifier({}, async () => {}, {
    instance_group: [{ count: 1, kind: 'KIND_CPU' }],
    dynamic_batching: { preferred_batch_size: [32], max_queue_delay_microseconds: 1_000_000 },
  });
  const Service = loadInferenceService();
  const client = new Service(own.grpc, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }) as unknown as grpc.Client & { ModelStreamInfer(): grpc.ClientDuplexStream<unknown, Answer> };
  const call = client.ModelStreamInfer();
  const answers: Answer[] = [];
  const status = new Promise<grpc.StatusObject>((resolve) => {
    call.on('data', (a: Answer) => answers.push(a));
    call.on('status', resolve);
    call.on('error', () => {}); // the status says it
  });
  const x = classifierInput(1, 2);
  const request = (id: string) => ({ model_name: TEXT_ORIENTATION, id, inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }], raw_input_contents: [tensorToRaw(x)] });
  const queued = () => own.engine.loaded().find((m) => m.name === TEXT_ORIENTATION)!.queued;
  call.write(request('queued'));
  for (let i = 0; queued() === 0; i++) {
    assert.ok(i < 2000, 'the request reaches the queue');
    await new Promise((r) => setTimeout(r, 5));
  }
  const closed = own.close(); // the client never half-closes: the server must end the stream itself
  call.write(request('late'));
  const st = await status;
  await closed;
  client.close();
  assert.equal(st.code, grpc.status.UNAVAILABLE, st.details);
  assert.equal(st.details, 'the server is shutting down: this stream takes no new requests');
  const byId = new Map(answers.map((a) => [a.infer_response.id, a.error_message]));
  assert.equal(answers.length, 2);
  assert.equal(byId.get('queued'), '', 'the request in flight is answered');
  assert.equal(byId.get('late'), 'the server is shutting down: this stream takes no new requests');
});
