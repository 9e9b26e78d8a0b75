import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient } from '../../src/client/index.js';
import { loadInferenceService } from '../../src/protocol/grpc-proto.js';
import { tensorToRaw } from '../../src/protocol/tensor-wire.js';
import { serveClassifier, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

const engineOutput = async (seed: number) =>
  Array.from(
    (await s.engine.infer(TEXT_ORIENTATION, { x: classifierInput(1, seed) })).outputs[OUTPUT].data as Float32Array,
  );

test('requests on one ModelStreamInfer call each get their own answer with the engine numbers', async () => {
  const client = new GrpcClient(s.grpc);
  const stream = client.stream();
  try {
    const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
    const results = await Promise.all(
      seeds.map((seed) =>
        stream.infer(TEXT_ORIENTATION, { x: classifierInput(1, seed) }, seed % 3 === 0 ? { id: `req-${seed}` } : {}),
      ),
    );
    for (const [i, r] of results.entries()) {
      const seed = seeds[i];
      assert.deepEqual(Array.from(r.outputs[OUTPUT].data as Float32Array), await engineOutput(seed), `seed ${seed}`);
      assert.equal(
        r.id,
        seed % 3 === 0 ? `req-${seed}` : undefined,
        'a given id is echoed, a stream-local one is not shown',
      );
      assert.equal(r.model_version, '1');
    }
    await assert.rejects(
      Promise.all([
        stream.infer(TEXT_ORIENTATION, { x: classifierInput(1) }, { id: 'twice' }),
        stream.infer(TEXT_ORIENTATION, { x: classifierInput(1) }, { id: 'twice' }),
      ]),
      /request id "twice" is already waiting for its answer on this stream/,
    );
    const ending = stream.end();
    await assert.rejects(
      stream.infer(TEXT_ORIENTATION, { x: classifierInput(1) }),
      /the stream is closing \(end\(\) was called\)/,
    );
    await ending;
    assert.equal(stream.failed, true);
    await assert.rejects(stream.infer(TEXT_ORIENTATION, { x: classifierInput(1) }), /the stream ended/);
  } finally {
    client.close();
  }
});

type Answer = {
  error_message: string;
  infer_response: { model_name: string; id: string; raw_output_contents: Buffer[] };
};

/** A raw grpc-js ModelStreamInfer call, as Triton's clients see the messages: what it answers, and its final status. */
function rawStream(address: string) {
  const Service = loadInferenceService();
  const client = new Service(address, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': -1,
  }) as unknown as grpc.Client & { ModelStreamInfer(): grpc.ClientDuplexStream<unknown, Answer> };
  const call = client.ModelStreamInfer();
  const answers: Answer[] = [];
  const status = new Promise<grpc.StatusObject>((resolve) => {
    call.on('data', (a: Answer) => answers.push(a));
    call.on('status', resolve);
    call.on('error', () => {}); // the status says it
  });
  return { call, answers, status, close: () => client.close() };
}

/** A ModelInferRequest for the classifier with seed `seed`'s input. */
function request(id: string, seed: number) {
  const x = classifierInput(1, seed);
  return {
    model_name: TEXT_ORIENTATION,
    id,
    inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }],
    raw_input_contents: [tensorToRaw(x)],
  };
}

test(
  "a failed request's answer carries error_message and its id, " +
    'the stream goes on, and a half-close ends it after the last answer',
  async () => {
    const { call, answers, status: ended, close } = rawStream(s.grpc);
    const good = (id: string) => request(id, 7);
    call.write({ ...good('unknown'), model_name: 'nope' });
    call.write({ ...good('shape'), inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 191] }] });
    call.write({ ...good('datatype'), inputs: [{ name: 'x', datatype: 'FP31', shape: [1, 3, 48, 192] }] });
    call.write(good('fine'));
    call.end();
    const status = await ended;
    close();
    assert.equal(status.code, grpc.status.OK);
    const byId = new Map(answers.map((a) => [a.infer_response.id, a]));
    assert.equal(answers.length, 4, 'one answer per request');
    assert.match(byId.get('unknown')!.error_message, /unknown model "nope" \(known: text_orientation\)/);
    assert.equal(byId.get('unknown')!.infer_response.model_name, 'nope');
    assert.match(byId.get('shape')!.error_message, /input "x"/);
    assert.match(byId.get('datatype')!.error_message, /unknown datatype "FP31"/);
    assert.equal(byId.get('fine')!.error_message, '');
    assert.deepEqual(
      Array.from(new Float32Array(new Uint8Array(byId.get('fine')!.infer_response.raw_output_contents[0]).buffer)),
      await engineOutput(7),
    );
  },
);

test(
  'a graceful shutdown answers what a stream has in flight, ' +
    'refuses what comes meanwhile by name, and ends it with UNAVAILABLE',
  async () => {
    // One instance and twelve batches of 32 rows, run one after another: hundreds of milliseconds of
    // work still queued when the shutdown starts and 'late' arrives.
    const own = await serveClassifier({}, async () => {}, { instance_group: [{ count: 1, kind: 'KIND_CPU' }] });
    const { call, answers, status, close } = rawStream(own.grpc);
    const closed: Promise<void>[] = [];
    try {
      const model = () => own.engine.loaded().find((m) => m.name === TEXT_ORIENTATION)!;
      const x = classifierInput(32, 3);
      const ids = Array.from({ length: 12 }, (_, i) => `big-${i}`);
      for (const id of ids)
        call.write({
          model_name: TEXT_ORIENTATION,
          id,
          inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }],
          raw_input_contents: [tensorToRaw(x)],
        });
      for (let i = 0; model().queued + model().inflight + answers.length < ids.length; i++) {
        assert.ok(i < 2000, 'the requests reach the model');
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(model().queued > 0, 'work is still queued when the shutdown starts');
      closed.push(own.close()); // the client never half-closes: the server must end the stream itself
      call.write(request('late', 2));
      const st = await status;
      assert.equal(st.code, grpc.status.UNAVAILABLE, st.details);
      assert.equal(st.details, 'the server is shutting down: this stream takes no new requests');
      const byId = new Map(answers.map((a) => [a.infer_response.id, a.error_message]));
      assert.equal(answers.length, ids.length + 1);
      for (const id of ids) assert.equal(byId.get(id), '', `${id}, accepted before the shutdown, is answered`);
      assert.equal(byId.get('late'), 'the server is shutting down: this stream takes no new requests');
    } finally {
      close();
      await Promise.all(closed.length ? closed : [own.close()]);
    }
  },
);
