import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { classifierInput } from '../fixtures/repo.js';
import { HttpClient } from '../../src/client/index.js';
import { serveClassifier, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

// gRPC messages as a hostile client writes them, byte by byte: 30 million empty
// raw_input_contents entries (57 KB gzipped) grew the server to 4.8 GB and killed it, because
// protobufjs made an object of each before any count was checked; a message that is not protobuf
// was answered INTERNAL. Now the wire format is counted before decoding, and any message that
// cannot be taken is INVALID_ARGUMENT naming why.
let s: Served;
let raw: grpc.Client;
before(async () => {
  s = await serveClassifier();
  raw = new grpc.Client(s.grpc, grpc.credentials.createInsecure());
});
after(async () => {
  raw.close();
  await s.close();
});

const SERVICE = '/inference.GRPCInferenceService';

function call(method: string, bytes: Buffer): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    raw.makeUnaryRequest(
      `${SERVICE}/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      (err) => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' }),
    );
  });
}

/** Protobuf wire format by hand: a length-delimited field, and a varint. */
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  return [...out, n];
};
const field = (no: number, payload: Buffer) =>
  Buffer.concat([Buffer.from([...varint(no * 8 + 2), ...varint(payload.length)]), payload]);
const str = (no: number, text: string) => field(no, Buffer.from(text));
/** A ModelInferRequest for the classifier with one input of `datatype` and `shape`, and `rest` appended. */
function inferMessage(
  datatype: string,
  shape: number[],
  contents: Buffer | null,
  rest: Buffer = Buffer.alloc(0),
): Buffer {
  const input = Buffer.concat([
    str(1, 'x'),
    str(2, datatype),
    field(3, Buffer.from(shape.flatMap(varint))),
    ...(contents ? [field(5, contents)] : []),
  ]);
  return Buffer.concat([str(1, TEXT_ORIENTATION), field(5, input), rest]);
}

test('thousands of empty raw_input_contents entries are refused by count before decoding', async () => {
  const bomb = Buffer.alloc(2 * 200_000, 0);
  for (let i = 0; i < bomb.length; i += 2) bomb[i] = 0x3a; // field 7, length 0
  const r = await call('ModelInfer', inferMessage('FP32', [1, 3, 48, 192], null, bomb));
  assert.equal(r.code, grpc.status.INVALID_ARGUMENT, r.details);
  assert.match(
    r.details,
    /raw_input_contents: 200000 is more than this server accepts in one request \(at most 1024\)/,
  );
});

test(
  'a BYTES input with too many bytes_contents entries, ' + 'or a shape of too many dimensions, is refused by count',
  async () => {
    const entries = Buffer.alloc(2 * 100_000, 0);
    for (let i = 0; i < entries.length; i += 2) entries[i] = 0x42; // field 8, length 0
    const many = await call('ModelInfer', inferMessage('BYTES', [100_000], entries));
    assert.equal(many.code, grpc.status.INVALID_ARGUMENT, many.details);
    assert.match(
      many.details,
      /bytes_contents entries: 100000 is more than this server accepts in one request \(at most 65536\)/,
    );
    // shape entries, one tag each
    const unpacked = Buffer.concat(Array.from({ length: 5000 }, () => Buffer.from([0x18, 0x01])));
    const input = Buffer.concat([str(1, 'x'), str(2, 'FP32'), unpacked]);
    const rank = await call('ModelInfer', Buffer.concat([str(1, TEXT_ORIENTATION), field(5, input)]));
    assert.equal(rank.code, grpc.status.INVALID_ARGUMENT, rank.details);
    assert.match(rank.details, /inputs\[0\]: shape has 5000 dimensions, more than this server accepts \(at most 64\)/);
  },
);

test('bytes that are not protobuf are INVALID_ARGUMENT on every method, and the server serves on', async () => {
  for (const [method, bytes] of [
    ['ModelInfer', [0xff, 0xff, 0xff, 0xff]],
    ['ModelInfer', [0x3a]],
    ['ServerLive', [0xff]],
    ['RepositoryModelLoad', [0x0a]],
    ['SystemSharedMemoryRegister', [0x1a]],
  ] as const) {
    const r = await call(method, Buffer.from(bytes));
    assert.equal(r.code, grpc.status.INVALID_ARGUMENT, `${method}: ${r.code} ${r.details}`);
    assert.match(r.details, /the request message|not valid protobuf/, method);
  }
  const ok = await new HttpClient(s.http).infer(TEXT_ORIENTATION, { x: classifierInput(1) });
  assert.deepEqual(ok.outputs['softmax_0.tmp_0'].shape, [1, 2]);
});

test(
  'a message on a ModelInferStream that cannot be taken is answered with its reason, ' + 'and the stream goes on',
  async () => {
    const stream = raw.makeBidiStreamRequest(
      `${SERVICE}/ModelStreamInfer`,
      (b: Buffer) => b,
      (b: Buffer) => b,
    );
    const answers: Buffer[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (b: Buffer) => answers.push(b));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const good = inferMessage(
      'FP32',
      [1, 3, 48, 192],
      null,
      field(7, Buffer.from((classifierInput(1).data as Float32Array).buffer)),
    );
    stream.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    stream.write(good);
    stream.end();
    await ended;
    assert.equal(answers.length, 2);
    const texts = answers.map((b) => b.toString('latin1'));
    const refusal = /the request message (has field|is truncated|is not valid protobuf)/;
    assert.ok(
      texts.some((t) => refusal.test(t)),
      `one answer carries the reason: ${texts.join(' | ')}`,
    );
    assert.ok(
      texts.some((t) => t.includes(TEXT_ORIENTATION) && !refusal.test(t)),
      'the good request is answered',
    );
  },
);
