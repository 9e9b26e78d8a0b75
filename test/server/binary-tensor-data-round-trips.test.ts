import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { classifierInput } from '../fixtures/repo.js';
import { serveClassifier, jsonInput, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

const url = () => `${s.http}/v2/models/${TEXT_ORIENTATION}/infer`;

function binaryBody(header: unknown, ...chunks: Uint8Array[]): { body: Buffer; length: number } {
  const h = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([h, ...chunks]), length: h.length };
}

async function postBinary(body: Buffer, headerLength: number) {
  const res = await fetch(url(), {
    method: 'POST',
    body: new Uint8Array(body),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(headerLength) },
  });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

test('binary inputs and binary outputs carry exactly the engine numbers', async () => {
  const x = classifierInput(3, 11);
  const want = (await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array;
  const raw = new Uint8Array((x.data as Float32Array).buffer);
  const { body, length } = binaryBody(
    {
      inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape, parameters: { binary_data_size: raw.length } }],
      outputs: [{ name: OUTPUT, parameters: { binary_data: true } }],
    },
    raw,
  );
  const r = await postBinary(body, length);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/octet-stream');
  const n = Number(r.headers.get('inference-header-content-length'));
  const header = JSON.parse(r.bytes.subarray(0, n).toString());
  assert.deepEqual(header.outputs, [
    { name: OUTPUT, datatype: 'FP32', shape: [3, 2], parameters: { binary_data_size: 24 } },
  ]);
  const got = new Float32Array(r.bytes.buffer.slice(r.bytes.byteOffset + n, r.bytes.byteOffset + n + 24));
  assert.deepEqual(Array.from(got), Array.from(want));
});

test('a JSON request may ask for binary outputs with binary_data_output', async () => {
  const x = classifierInput(1, 2);
  const res = await fetch(url(), {
    method: 'POST',
    body: JSON.stringify({ parameters: { binary_data_output: true }, inputs: [jsonInput(x)] }),
  });
  assert.equal(res.status, 200);
  const n = Number(res.headers.get('inference-header-content-length'));
  const bytes = Buffer.from(await res.arrayBuffer());
  const header = JSON.parse(bytes.subarray(0, n).toString());
  assert.equal(header.outputs[0].parameters.binary_data_size, 8);
  assert.equal(bytes.length, n + 8);
});

test('a binary request may ask for JSON outputs (binary_data false)', async () => {
  const x = classifierInput(1, 4);
  const raw = new Uint8Array((x.data as Float32Array).buffer);
  const { body, length } = binaryBody(
    {
      inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape, parameters: { binary_data_size: raw.length } }],
      outputs: [{ name: OUTPUT, parameters: { binary_data: false } }],
    },
    raw,
  );
  const r = await postBinary(body, length);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('inference-header-content-length'), null);
  const json = JSON.parse(r.bytes.toString());
  const want = (await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array;
  assert.deepEqual(json.outputs[0].data, Array.from(want));
});
