import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceService } from '../../src/protocol/grpc-proto.js';
import { classifierInput } from '../fixtures/repo.js';
import { HttpClient } from '../../src/client/index.js';
import { responseCoding } from '../../src/protocol/compression.js';
import { serveClassifier, jsonInput, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

const LIMIT = 2 ** 20;
let s: Served;
before(async () => (s = await serveClassifier({ bodyLimit: LIMIT })));
after(() => s.close());

const path = `/v2/models/${TEXT_ORIENTATION}/infer`;

/** A raw exchange: the bytes as they travel (fetch would inflate the response behind our back). */
function exchange(
  body: Buffer,
  headers: Record<string, string>,
  agent?: http.Agent,
  chunked = false,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: Buffer }> {
  const url = new URL(s.http);
  const length: Record<string, string> = chunked
    ? { 'transfer-encoding': 'chunked' }
    : { 'content-length': String(body.length) };
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { ...headers, ...length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('HttpClient with gzip or deflate, each way, binary or JSON, gets the engine numbers', async () => {
  const x = classifierInput(1, 5); // as JSON ~0.5 MB, under the limit
  const want = Array.from((await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array);
  const client = new HttpClient(s.http);
  try {
    for (const binary of [true, false])
      for (const [requestCompression, responseCompression] of [
        ['gzip', 'deflate'],
        ['deflate', 'gzip'],
        ['gzip', undefined],
        [undefined, 'deflate'],
      ] as const) {
        const r = await client.infer(TEXT_ORIENTATION, { x }, { binary, requestCompression, responseCompression });
        assert.deepEqual(
          Array.from(r.outputs[OUTPUT].data as Float32Array),
          want,
          `binary ${binary}, request ${requestCompression}, response ${responseCompression}`,
        );
      }
  } finally {
    client.close();
  }
});

test(
  'a compressed binary response is marked, ' + 'and Inference-Header-Content-Length counts the uncompressed header',
  async () => {
    const x = classifierInput(1, 9);
    const want = (await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array;
    const raw = Buffer.from((x.data as Float32Array).buffer);
    const header = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape, parameters: { binary_data_size: raw.length } }],
        parameters: { binary_data_output: true },
      }),
    );
    const r = await exchange(zlib.gzipSync(Buffer.concat([header, raw])), {
      'content-type': 'application/octet-stream',
      'content-encoding': 'gzip',
      'inference-header-content-length': String(header.length),
      'accept-encoding': 'deflate',
    });
    assert.equal(r.status, 200, r.bytes.toString());
    assert.equal(r.headers['content-encoding'], 'deflate');
    assert.equal(r.headers.vary, 'accept-encoding');
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    const body = zlib.inflateSync(r.bytes);
    const n = Number(r.headers['inference-header-content-length']);
    const json = JSON.parse(body.subarray(0, n).toString());
    assert.deepEqual(json.outputs[0].parameters, { binary_data_size: want.byteLength });
    assert.deepEqual(new Float32Array(body.buffer.slice(body.byteOffset + n, body.byteOffset + body.length)), want);
  },
);

test('a response is not compressed unless Accept-Encoding asks for gzip or deflate', async () => {
  const body = Buffer.from(JSON.stringify({ inputs: [jsonInput(classifierInput(1))] }));
  for (const accept of [undefined, 'br', 'identity', 'gzip;q=0, deflate;q=0']) {
    const r = await exchange(body, {
      'content-type': 'application/json',
      ...(accept ? { 'accept-encoding': accept } : {}),
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], undefined, `Accept-Encoding ${accept}`);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(JSON.parse(r.bytes.toString()).outputs[0].name, OUTPUT);
  }
});

test('Accept-Encoding: gzip before deflate, weights of 0 refuse, * takes either', () => {
  assert.equal(responseCoding('gzip, deflate, br'), 'gzip');
  assert.equal(responseCoding('deflate'), 'deflate');
  assert.equal(responseCoding('br;q=1.0, deflate;q=0.5'), 'deflate');
  assert.equal(responseCoding('gzip;q=0, deflate'), 'deflate');
  assert.equal(responseCoding('*'), 'gzip');
  assert.equal(responseCoding('*, gzip;q=0'), 'deflate');
  assert.equal(responseCoding('br, identity'), null);
  assert.equal(responseCoding(undefined), null);
});

test('bad compressed bodies get a clear error each, and the server serves the next request', async () => {
  const good = Buffer.from(JSON.stringify({ inputs: [jsonInput(classifierInput(1))] }));
  // 3 MiB of zeros gzip to ~3 KB: under the 1 MiB limit as sent, over it inflated
  const bomb = zlib.gzipSync(Buffer.alloc(3 * 2 ** 20));
  assert.ok(bomb.length < 10_000);
  const cases: [string, Buffer, Record<string, string>, number, RegExp][] = [
    [
      'an unknown coding',
      zlib.brotliCompressSync(good),
      { 'content-encoding': 'br' },
      415,
      /unsupported Content-Encoding "br": send the body as it is, or with gzip or deflate/,
    ],
    [
      'two codings',
      zlib.gzipSync(zlib.deflateSync(good)),
      { 'content-encoding': 'deflate, gzip' },
      415,
      /unsupported Content-Encoding "deflate, gzip"/,
    ],
    [
      'plain bytes said to be gzip',
      good,
      { 'content-encoding': 'gzip' },
      400,
      /request body is not valid gzip data \(Content-Encoding: gzip\): incorrect header check/,
    ],
    [
      'gzip said to be deflate',
      zlib.gzipSync(good),
      { 'content-encoding': 'deflate' },
      400,
      /request body is not valid deflate data/,
    ],
    [
      'a truncated gzip body',
      zlib.gzipSync(good).subarray(0, 200),
      { 'content-encoding': 'gzip' },
      400,
      /request body is not valid gzip data .*unexpected end of file/,
    ],
    [
      'a body that inflates past the limit',
      bomb,
      { 'content-encoding': 'gzip' },
      413,
      new RegExp(`request body inflates to more than the limit of ${LIMIT} bytes \\(Content-Encoding: gzip\\)`),
    ],
  ];
  for (const [what, body, headers, status, message] of cases) {
    const r = await exchange(body, { 'content-type': 'application/json', ...headers });
    assert.equal(r.status, status, `${what}: ${r.bytes}`);
    assert.match(JSON.parse(r.bytes.toString()).error, message, what);
    const next = await exchange(zlib.gzipSync(good), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    assert.equal(next.status, 200, `after ${what}: ${next.bytes}`);
  }
});

test(
  'gRPC: a ModelInfer compressed with gzip or deflate ' +
    '(grpc-encoding, as tritonclient compression_algorithm sends it) is served',
  async () => {
    const x = classifierInput(1, 4);
    const want = Buffer.from(
      ((await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array).buffer,
    );
    const Service = loadInferenceService();
    for (const [name, algorithm] of [
      ['deflate', 1],
      ['gzip', 2],
    ] as const) {
      const client = new Service(s.grpc, grpc.credentials.createInsecure(), {
        'grpc.default_compression_algorithm': algorithm,
        'grpc.max_send_message_length': -1,
      }) as unknown as grpc.Client & {
        ModelInfer: (req: unknown, cb: (err: Error | null, res: { raw_output_contents: Buffer[] }) => void) => void;
      };
      try {
        const r = await new Promise<{ raw_output_contents: Buffer[] }>((resolve, reject) =>
          client.ModelInfer(
            {
              model_name: TEXT_ORIENTATION,
              inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape }],
              raw_input_contents: [Buffer.from((x.data as Float32Array).buffer)],
            },
            (err, res) => (err ? reject(err) : resolve(res)),
          ),
        );
        assert.deepEqual(r.raw_output_contents[0], want, name);
      } finally {
        client.close();
      }
    }
  },
);

test(
  'a compressed body refused part way is answered at once with Connection: close, ' + 'and the next request is served',
  async () => {
    // Inflates past the limit in its first KB; then ~500 KB of noise still to come over the socket.
    const noise = randomBytes(500_000);
    const body = zlib.gzipSync(Buffer.concat([Buffer.alloc(2 * LIMIT), noise]));
    assert.ok(body.length > 400_000 && body.length < LIMIT, `${body.length} bytes compressed`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const r = await exchange(body, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, agent);
      assert.equal(r.status, 413, r.bytes.toString());
      assert.equal(r.headers.connection, 'close', 'the unread rest of the body must not be parsed as the next request');
      const good = Buffer.from(JSON.stringify({ inputs: [jsonInput(classifierInput(1))] }));
      const next = await exchange(good, { 'content-type': 'application/json' }, agent);
      assert.equal(next.status, 200, next.bytes.toString());
    } finally {
      agent.destroy();
    }
  },
);

test('a chunked compressed body that never inflates to anything still stops at the limit', async () => {
  // A zlib stream of empty stored blocks (BFINAL 0, LEN 0, NLEN 0xffff): 1.25 MB that inflate to 0 bytes.
  const empty = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
  const body = Buffer.concat([
    Buffer.from([0x78, 0x9c]),
    Buffer.alloc(250_000 * empty.length).fill(empty),
    Buffer.from([0x03, 0x00, 0x00, 0x00, 0x00, 0x01]),
  ]);
  assert.equal(zlib.inflateSync(body).length, 0);
  const r = await exchange(
    body,
    { 'content-type': 'application/json', 'content-encoding': 'deflate' },
    undefined,
    true,
  );
  assert.equal(r.status, 413, r.bytes.toString());
  assert.match(
    JSON.parse(r.bytes.toString()).error,
    new RegExp(
      `request body is larger than the limit of ${LIMIT} bytes \\(Content-Encoding: deflate, before inflating\\)`,
    ),
  );
  const good = Buffer.from(JSON.stringify({ inputs: [jsonInput(classifierInput(1))] }));
  assert.equal(
    (await exchange(zlib.gzipSync(good), { 'content-type': 'application/json', 'content-encoding': 'x-gzip' })).status,
    200,
    'x-gzip is gzip',
  );
});
