import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient } from '../../src/client/index.js';
import { DATATYPES } from '../../src/tensor.js';
import { serveClassifier, post, jsonInput, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

// Generated requests, seeded and bounded, over both transports. The property: every request is
// answered within a bound, a client's mistake is a 4xx or INVALID_ARGUMENT (never a 5xx,
// INTERNAL or UNKNOWN), and the server then answers a good request correctly. A failure prints
// the seed and the shrunk request that broke it.
// npm test runs the bounded corpus; bench:soak runs a longer one through FUZZ_RUNS and FUZZ_SEED.
const SEED = Number(process.env.FUZZ_SEED ?? 23);
const RUNS = Number(process.env.FUZZ_RUNS ?? 120);
const ANSWER_WITHIN_MS = 15_000;

let s: Served;
let raw: grpc.Client;
let client: GrpcClient;
before(async () => {
  s = await serveClassifier({ modelControlMode: 'explicit', allowClientShm: true });
  raw = new grpc.Client(s.grpc, grpc.credentials.createInsecure());
  client = new GrpcClient(s.grpc);
});
after(async () => {
  raw.close();
  client.close();
  await s.close();
});

const x = classifierInput(1);
const good = jsonInput(x);
const url = () => `${s.http}/v2/models/${TEXT_ORIENTATION}/infer`;

async function goodRequestWorks(): Promise<void> {
  const r = await post(url(), { inputs: [good] });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.outputs[0].shape, [1, 2]);
}

/** A value that is sometimes right, sometimes of the right type but wrong, sometimes anything. */
const either = <T>(right: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: right }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
const dims = fc.oneof(
  fc.constant([1, 3, 48, 192]),
  fc.array(fc.oneof(fc.integer({ min: -2, max: 300 }), fc.constant(2 ** 40), fc.constant(0)), { maxLength: 6 }),
);
const parameter = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(2 ** 31 * 1000),
  fc.jsonValue({ maxDepth: 2 }),
);
const parameterNames = fc.constantFrom(
  'binary_data_size',
  'binary_data',
  'binary_data_output',
  'classification',
  'timeout',
  'priority',
  'shared_memory_region',
  'shared_memory_byte_size',
  'shared_memory_offset',
  'other',
);
const parameters = fc.option(either(fc.dictionary(parameterNames, parameter, { maxKeys: 4 })), { nil: undefined });
const tensor = fc.record(
  {
    name: either(fc.constantFrom('x', 'y', '__proto__', '')),
    datatype: either(fc.constantFrom(...DATATYPES, 'FLOAT', '')),
    shape: either(dims),
    data: fc.option(
      either(
        fc.oneof(
          fc.constant(good.data),
          fc.array(fc.oneof(fc.double(), fc.string({ maxLength: 4 }), fc.boolean()), { maxLength: 8 }),
        ),
      ),
      { nil: undefined },
    ),
    parameters,
  },
  { requiredKeys: ['name'] },
);
const inferBody = fc.record(
  {
    id: fc.option(either(fc.string({ maxLength: 8 })), { nil: undefined }),
    inputs: either(fc.array(tensor, { minLength: 0, maxLength: 3 })),
    outputs: fc.option(
      either(
        fc.array(fc.record({ name: either(fc.constantFrom('softmax_0.tmp_0', 'nope')), parameters }), { maxLength: 2 }),
      ),
      { nil: undefined },
    ),
    parameters,
  },
  { requiredKeys: ['inputs'] },
);

/** How the body travels: as JSON, with a binary tail and a (possibly lying) header length, or compressed. */
const framing = fc.oneof(
  fc.constant({ kind: 'json' as const }),
  fc.record({
    kind: fc.constant('binary' as const),
    tail: fc.uint8Array({ maxLength: 64 }),
    claim: fc.oneof(fc.constant('right'), fc.integer({ min: -5, max: 1000 }).map(String), fc.string({ maxLength: 5 })),
  }),
  fc.record({
    kind: fc.constant('coded' as const),
    coding: fc.constantFrom('gzip', 'deflate', 'br', 'x-bogus'),
    garble: fc.boolean(),
  }),
);

test(`HTTP: ${RUNS} generated infer requests get a 200 or a 4xx naming the problem, never a 5xx`, async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(inferBody, framing, async (body, how) => {
      const json = Buffer.from(JSON.stringify(body));
      let bytes: Buffer = json;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (how.kind === 'binary') {
        bytes = Buffer.concat([json, Buffer.from(how.tail)]);
        headers['inference-header-content-length'] = how.claim === 'right' ? String(json.length) : how.claim;
      } else if (how.kind === 'coded') {
        bytes = how.garble ? Buffer.concat([Buffer.from([0x1f, 0x8b]), json]) : gzipSync(json);
        headers['content-encoding'] = how.coding;
      }
      const res = await fetch(url(), {
        method: 'POST',
        body: new Uint8Array(bytes),
        headers,
        signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
      });
      const text = await res.text();
      assert.ok(
        res.status < 500,
        `${res.status} ${text.slice(0, 300)} for ${JSON.stringify(body).slice(0, 300)} (${how.kind})`,
      );
      if (res.status >= 400) assert.match(JSON.parse(text).error, /\S/, 'a 4xx names the problem');
      if (++n % 40 === 0) await goodRequestWorks();
    }),
    { seed: SEED, numRuns: RUNS },
  );
  await goodRequestWorks();
});

test(`HTTP: ${RUNS} generated repository and shared-memory requests never get a 5xx`, async () => {
  const route = fc.oneof(
    fc.record({
      path: fc.constantFrom(
        '/v2/repository/index',
        '/v2/systemsharedmemory/status',
        '/v2/systemsharedmemory/unregister',
      ),
      body: fc.jsonValue({ maxDepth: 3 }),
    }),
    fc.record({
      path: fc.constantFrom(
        '/v2/systemsharedmemory/region/r1/register',
        '/v2/systemsharedmemory/region/%2e%2e/register',
      ),
      body: fc.record({
        key: either(fc.constantFrom('/nope', '/', '/..', 'a/b')),
        offset: either(fc.integer()),
        byte_size: either(fc.integer()),
      }),
    }),
    fc.record({
      path: fc.constantFrom(
        `/v2/repository/models/${TEXT_ORIENTATION}/load`,
        '/v2/repository/models/fuzzed/load',
        '/v2/repository/models/fuzzed/unload',
      ),
      body: fc.record({
        parameters: either(
          fc.dictionary(
            fc.constantFrom('config', 'file:1/model.onnx', 'file:../x', 'other'),
            either(
              fc.oneof(
                fc.constant('{"instance_group":[{"count":1000000000}]}'),
                fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
                fc.base64String({ maxLength: 16 }),
              ),
            ),
            { maxKeys: 3 },
          ),
        ),
      }),
    }),
  );
  await fc.assert(
    fc.asyncProperty(route, async ({ path, body }) => {
      const res = await fetch(`${s.http}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
      });
      const text = await res.text();
      assert.ok(
        res.status < 500,
        `${res.status} ${text.slice(0, 300)} for POST ${path} ${JSON.stringify(body).slice(0, 300)}`,
      );
    }),
    { seed: SEED, numRuns: RUNS },
  );
  // A load of the served model with a good config may have reloaded it; it serves on.
  await post(`${s.http}/v2/repository/models/${TEXT_ORIENTATION}/load`, {});
  await goodRequestWorks();
});

const BAD_GRPC = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN]);

test(
  `gRPC: ${RUNS} generated ModelInfer messages, ` +
    'structured and as mutated bytes, ' +
    'never get INTERNAL or UNKNOWN',
  async () => {
    const grpcTensor = fc.record({
      name: fc.constantFrom('x', 'y', ''),
      datatype: fc.constantFrom(...DATATYPES, 'FLOAT'),
      shape: fc.array(fc.oneof(fc.integer({ min: -3, max: 200 }).map(String), fc.constant('9223372036854775807')), {
        maxLength: 5,
      }),
      parameters: fc.dictionary(
        parameterNames,
        fc.oneof(
          fc.record({ int64_param: fc.integer().map(String) }),
          fc.record({ string_param: fc.string({ maxLength: 6 }) }),
          fc.record({ bool_param: fc.boolean() }),
        ),
        { maxKeys: 2 },
      ),
      contents: fc.option(
        fc.record({
          fp32_contents: fc.array(fc.float({ noNaN: true }), { maxLength: 6 }),
          bytes_contents: fc.array(
            fc.uint8Array({ maxLength: 3 }).map((b) => Buffer.from(b)),
            { maxLength: 3 },
          ),
        }),
        { nil: undefined },
      ),
    });
    const message = fc.record({
      model_name: fc.constantFrom(TEXT_ORIENTATION, 'nope', ''),
      model_version: fc.constantFrom('', '1', '7', 'x'),
      inputs: fc.array(grpcTensor, { maxLength: 3 }),
      raw_input_contents: fc.array(
        fc.oneof(
          fc.constant(Buffer.from((x.data as Float32Array).buffer)),
          fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
        ),
        { maxLength: 3 },
      ),
      parameters: fc.dictionary(parameterNames, fc.record({ int64_param: fc.integer().map(String) }), { maxKeys: 2 }),
    });
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        const code = await client.call('ModelInfer', m).then(
          () => 0,
          (err: { status: number; message: string }) => {
            assert.ok(!BAD_GRPC.has(err.status), `${err.status} ${err.message} for ${JSON.stringify(m).slice(0, 300)}`);
            return err.status;
          },
        );
        assert.ok(code >= 0);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // The same from mutated bytes: a valid message's bytes with some flipped, cut or appended.
    const validBytes = Buffer.concat([
      Buffer.from([0x0a, TEXT_ORIENTATION.length]),
      Buffer.from(TEXT_ORIENTATION),
      Buffer.from([0x2a, 0x11, 0x0a, 0x01, 0x78, 0x12, 0x04]),
      Buffer.from('FP32'),
      Buffer.from([0x1a, 0x06, 0x01, 0x03, 0x30, 0xc0, 0x01, 0x00]),
    ]);
    const mutated = fc
      .record({
        at: fc.nat({ max: validBytes.length }),
        cut: fc.boolean(),
        noise: fc.uint8Array({ minLength: 1, maxLength: 12 }),
      })
      .map(({ at, cut, noise }) =>
        Buffer.concat([
          validBytes.subarray(0, at),
          Buffer.from(noise),
          cut ? Buffer.alloc(0) : validBytes.subarray(at),
        ]),
      );
    await fc.assert(
      fc.asyncProperty(mutated, async (bytes) => {
        const status = await new Promise<number>((resolve) =>
          raw.makeUnaryRequest(
            '/inference.GRPCInferenceService/ModelInfer',
            (b: Buffer) => b,
            (b: Buffer) => b,
            bytes,
            (err) => resolve(err ? err.code : 0),
          ),
        );
        assert.ok(!BAD_GRPC.has(status), `status ${status} for bytes ${bytes.toString('hex')}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    await goodRequestWorks();
  },
);
