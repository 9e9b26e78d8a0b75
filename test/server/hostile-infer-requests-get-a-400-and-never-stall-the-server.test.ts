import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient } from '../../src/client/index.js';
import { serveClassifier, post, jsonInput, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

// Defects a hostile client found in inference requests: 150 000 inputs held the event loop ~50 s
// (a quadratic duplicate check); a timeout of 2^31 ms or more timed out at once (Node clamps such
// delays to 1 ms); JSON nested 100 000 deep in the body, id, parameters or shape was a 500
// ("Maximum call stack size exceeded" while the message was built); a zero-sized dimension where
// the model lets it vary was a 500 with ONNX Runtime's text.
let s: Served;
let grpcClient: GrpcClient;
// A bare config: inputs and outputs from the file, whose input is [-1, 3, -1, -1].
before(async () => {
  s = await serveClassifier({}, async () => {}, {
    input: [],
    output: [],
    max_batch_size: 0,
    dynamic_batching: undefined,
    image_input: undefined,
  });
  grpcClient = new GrpcClient(s.grpc);
});
after(async () => {
  grpcClient.close();
  await s.close();
});

const url = () => `${s.http}/v2/models/${TEXT_ORIENTATION}/infer`;
const x = classifierInput(1);
const good = jsonInput(x);
const grpcInfer = (msg: Record<string, unknown>) =>
  grpcClient.call<{ outputs: { shape: string[] }[] }>('ModelInfer', { model_name: TEXT_ORIENTATION, ...msg }).then(
    (r) => ({ code: 0, details: '', r }),
    (err: { status: number; message: string }) => ({ code: err.status, details: err.message, r: undefined }),
  );
const raw = () => [Buffer.from((x.data as Float32Array).buffer.slice(0))];
const servesNext = async () => assert.equal((await post(url(), { inputs: [good] })).status, 200);

test('a request with more tensors or parameters than the limits is refused by count, on HTTP and gRPC', async () => {
  // Shared-memory inputs took the quadratic path: 150 000 of them held the server ~50 s.
  const inputs = Array.from({ length: 150_000 }, (_, i) => ({
    name: `i${i}`,
    datatype: 'FP32',
    shape: [1],
    parameters: { shared_memory_region: 'r', shared_memory_byte_size: 4 },
  }));
  const live = (async () => {
    await new Promise((r) => setTimeout(r, 50));
    return (await fetch(`${s.http}/v2/health/live`)).status;
  })();
  const r = await post(url(), { inputs });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /"inputs": 150000 is more than this server accepts in one request \(at most 1024\)/);
  assert.equal(await live, 200);
  const outputs = await post(url(), {
    inputs: [good],
    outputs: Array.from({ length: 2000 }, (_, i) => ({ name: `o${i}` })),
  });
  assert.equal(outputs.status, 400);
  assert.match(outputs.body.error, /"outputs": 2000 is more than/);
  const params = await post(url(), {
    inputs: [good],
    parameters: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, i])),
  });
  assert.equal(params.status, 400);
  assert.match(
    params.body.error,
    /request parameters: 300 is more than this server accepts in one request \(at most 256\)/,
  );
  const rank = await post(url(), { inputs: [{ ...good, shape: Array(100).fill(1) }] });
  assert.equal(rank.status, 400);
  assert.match(rank.body.error, /shape has 100 dimensions, more than this server accepts \(at most 64\)/);
  const longName = await post(url(), { inputs: [{ ...good, name: 'n'.repeat(5000) }] });
  assert.equal(longName.status, 400);
  assert.match(longName.body.error, /the name is 5000 characters long/);

  const many = await grpcInfer({
    inputs: Array.from({ length: 5000 }, (_, i) => ({ name: `i${i}`, datatype: 'FP32', shape: ['1'] })),
  });
  assert.equal(many.code, grpc.status.INVALID_ARGUMENT, many.details);
  assert.match(many.details, /"inputs": 5000 is more than/);
  const gParams = await grpcInfer({
    inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape.map(String) }],
    raw_input_contents: raw(),
    parameters: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`p${i}`, { int64_param: i }])),
  });
  assert.equal(gParams.code, grpc.status.INVALID_ARGUMENT, gParams.details);
  assert.match(gParams.details, /300 is more than/);
  await servesNext();
});

test('a timeout of 2^31 ms or more waits as long as it says (HTTP and gRPC), never times out at once', async () => {
  for (const timeout of [2 ** 31 * 1000, 2 ** 40 * 1000, Number.MAX_SAFE_INTEGER]) {
    const r = await post(url(), { inputs: [good], parameters: { timeout } });
    assert.equal(r.status, 200, `${timeout}: ${JSON.stringify(r.body)}`);
    const g = await grpcInfer({
      inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape.map(String) }],
      raw_input_contents: raw(),
      parameters: { timeout: { int64_param: String(timeout) } },
    });
    assert.equal(g.code, 0, `${timeout}: ${g.details}`);
  }
});

test('JSON nested 100 000 deep anywhere in the body is a 400 naming the field', async () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const cases: [string, RegExp][] = [
    [deep, /the request body must be a JSON object, got \[\[\[\[/],
    [`{"id":${deep},"inputs":[]}`, /"id" must be a string, got \[\[\[/],
    [`{"parameters":${deep},"inputs":[]}`, /request parameters must be an object, got \[\[\[/],
    [
      `{"parameters":{"p":${deep}},"inputs":[]}`,
      /request parameters: "p" must be a string, number or boolean, got \[\[\[/,
    ],
    [
      `{"inputs":[{"name":"x","datatype":"FP32","shape":${deep}}]}`,
      /input "x": shape must be a list of integers >= 0, got \[\[\[/,
    ],
    [
      `{"inputs":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`,
      /"inputs" must be a non-empty list of tensors, got \{"a":\{"a"/,
    ],
    [`{"inputs":[{"name":"x","datatype":${deep},"shape":[1]}]}`, /unknown datatype \[\[\[/],
  ];
  for (const [body, message] of cases) {
    const r = await post(url(), body);
    assert.equal(r.status, 400, `${body.slice(0, 40)}: ${JSON.stringify(r.body).slice(0, 200)}`);
    assert.match(r.body.error, message);
    assert.ok(r.body.error.length < 400, `the message is short: ${r.body.error.length} characters`);
  }
  const load = await post(`${s.http}/v2/repository/index`, `{"ready":${deep}}`);
  assert.equal(load.status, 400);
  assert.match(load.body.error, /"ready" must be true or false, got \[\[\[/);
  await servesNext();
});

test('a zero-sized dimension where the model lets it vary is a 400 naming it, on HTTP and gRPC', async () => {
  for (const shape of [
    [1, 3, 48, 0],
    [0, 3, 48, 192],
    [1, 3, 0, 192],
  ]) {
    const r = await post(url(), { inputs: [{ name: 'x', datatype: 'FP32', shape, data: [] }] });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(
      r.body.error,
      new RegExp(
        `input "x" of model "text_orientation" has shape \\[${shape.join(', ')}\\]: ` +
          `dimension ${shape.indexOf(0)} is 0, and the model needs at least 1 there`,
      ),
    );
    const g = await grpcInfer({
      inputs: [{ name: 'x', datatype: 'FP32', shape: shape.map(String) }],
      raw_input_contents: [Buffer.alloc(0)],
    });
    assert.equal(g.code, grpc.status.INVALID_ARGUMENT, g.details);
    assert.match(g.details, /dimension \d is 0, and the model needs at least 1 there/);
  }
  const ok = await post(url(), { inputs: [{ ...good, shape: [1, 3, 48, 192] }] });
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.body.outputs.find((o: { name: string }) => o.name === OUTPUT).shape, [1, 2]);
});
