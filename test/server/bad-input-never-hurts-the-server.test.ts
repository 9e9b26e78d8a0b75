import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { classifierInput } from '../fixtures/repo.js';
import { serveClassifier, post, jsonInput, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

const LIMIT = 1_000_000; // bytes: a batch of 2 as binary fits, a batch of 16 does not
let s: Served;
before(async () => (s = await serveClassifier({ bodyLimit: LIMIT, modelControlMode: 'explicit' })));
after(() => s.close());

const inferUrl = (m = TEXT_ORIENTATION) => `${s.http}/v2/models/${m}/infer`;
const x = classifierInput(1);
const raw = Buffer.from((x.data as Float32Array).buffer);
const good = jsonInput(x);

/** JSON header + binary data, with the header length the client claims. */
function framed(header: unknown, data: Buffer, claim?: number) {
  const h = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([h, data]),
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(claim ?? h.length),
    },
  };
}
const binInput = (size: number) => ({
  inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape, parameters: { binary_data_size: size } }],
});

type Case = [
  what: string,
  send: () => Promise<{ status: number; body: { error: string } }>,
  status: number,
  error: RegExp,
];
const send = (body: unknown, headers: Record<string, string> = {}, url = inferUrl()) => post(url, body, headers);
const sendFramed = (f: ReturnType<typeof framed>) => post(inferUrl(), new Uint8Array(f.body), f.headers);

const cases: Case[] = [
  ['malformed JSON', () => send('{"inputs": [', {}), 400, /request body is not valid JSON/],
  ['an empty body', () => send('', {}), 400, /request body is empty/],
  ['a JSON array instead of an object', () => send([1, 2]), 400, /must be a JSON object/],
  ['no inputs', () => send({ inputs: [] }), 400, /"inputs" must be a non-empty list/],
  [
    'an unknown datatype',
    () => send({ inputs: [{ ...good, datatype: 'FLOAT' }] }),
    400,
    /input "x": unknown datatype "FLOAT"/,
  ],
  [
    'a negative dimension',
    () => send({ inputs: [{ ...good, shape: [1, -3, 48, 192] }] }),
    400,
    /input "x": shape must be a list of integers >= 0, got \[1,-3,48,192\]/,
  ],
  [
    'data shorter than the shape',
    () => send({ inputs: [{ ...good, data: [1, 2, 3] }] }),
    400,
    /input "x": data has 3 elements, but shape \[1, 3, 48, 192\] needs 27648/,
  ],
  [
    'a string among FP32 data',
    () => send({ inputs: [{ ...good, data: ['a', ...good.data.slice(1)] }] }),
    400,
    /input "x": element 0 is "a", expected a number for FP32/,
  ],
  [
    'a wrong shape for the model',
    () => send({ inputs: [{ ...good, shape: [1, 3, 192, 48] }] }),
    400,
    /input "x" of model "text_orientation" has shape \[1, 3, 192, 48\], expected \[-1 \(batch\), 3, 48, 192\]/,
  ],
  [
    'a wrong datatype for the model',
    () => send({ inputs: [{ ...good, datatype: 'FP64' }] }),
    400,
    /datatype FP64, expected FP32/,
  ],
  ['an unknown input name', () => send({ inputs: [{ ...good, name: 'image' }] }), 400, /unexpected input "image"/],
  ['an unknown output', () => send({ inputs: [good], outputs: [{ name: 'probs' }] }), 400, /no output "probs"/],
  [
    'a bad classification value',
    () => send({ inputs: [good], outputs: [{ name: 'softmax_0.tmp_0', parameters: { classification: 'two' } }] }),
    400,
    /classification must be an integer >= 0 \(top k\), got "two"/,
  ],
  [
    'a binary size that does not fit the shape',
    () => sendFramed(framed(binInput(raw.length - 4), raw.subarray(4))),
    400,
    /binary data is 110588 bytes, but shape \[1, 3, 48, 192\] of FP32 needs 110592 bytes/,
  ],
  [
    'binary_data_size past the end of the data',
    () => sendFramed(framed(binInput(raw.length), raw.subarray(100))),
    400,
    /binary_data_size 110592 runs past the end of the binary data \(110492 bytes left/,
  ],
  [
    'bytes left after the last tensor',
    () => sendFramed(framed(binInput(raw.length), Buffer.concat([raw, Buffer.alloc(8)]))),
    400,
    /8 bytes of binary data after the last tensor/,
  ],
  [
    'a header length larger than the body',
    () => sendFramed(framed(binInput(raw.length), raw, 10_000_000)),
    400,
    /Inference-Header-Content-Length 10000000 is larger than the request body/,
  ],
  [
    'a header length that cuts the JSON',
    () => sendFramed(framed(binInput(raw.length), raw, 20)),
    400,
    /not valid JSON/,
  ],
  [
    'a header length that is not a number',
    () => post(inferUrl(), JSON.stringify({ inputs: [good] }), { 'inference-header-content-length': 'lots' }),
    400,
    /Inference-Header-Content-Length must be a number of bytes, got "lots"/,
  ],
  [
    'a body over the limit',
    () =>
      sendFramed(
        framed(
          {
            inputs: [
              {
                name: 'x',
                datatype: 'FP32',
                shape: [16, 3, 48, 192],
                parameters: { binary_data_size: raw.length * 16 },
              },
            ],
          },
          Buffer.concat(Array(16).fill(raw)),
        ),
      ),
    413,
    /request body is larger than the limit of 1000000 bytes/,
  ],
  [
    'an unknown model',
    () => send({ inputs: [good] }, {}, inferUrl('resnet1000')),
    404,
    /unknown model "resnet1000" \(known: .*text_orientation/,
  ],
  [
    'an unknown version',
    () => send({ inputs: [good] }, {}, `${s.http}/v2/models/${TEXT_ORIENTATION}/versions/7/infer`),
    404,
    /no loaded version 7 \(loaded: 1\)/,
  ],
  [
    'a version that is not a number',
    () => send({ inputs: [good] }, {}, `${s.http}/v2/models/${TEXT_ORIENTATION}/versions/latest/infer`),
    400,
    /model version must be a positive integer, got "latest"/,
  ],
];

for (const [what, call, status, error] of cases) {
  test(`${what} gets ${status} with a message naming the problem, and the next good request is served`, async () => {
    const r = await call();
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.match(r.body.error, error);
    const ok = await send({ inputs: [good] });
    assert.equal(ok.status, 200);
  });
}

test('a model that is unloading or unloaded gets 503 naming its state; others keep serving', async () => {
  const busy = Array.from({ length: 3 }, () => s.engine.infer(TEXT_ORIENTATION, { x: classifierInput(32) }));
  const unloading = post(`${s.http}/v2/repository/models/${TEXT_ORIENTATION}/unload`, {});
  await new Promise((r) => setTimeout(r, 5));
  const during = await send({ inputs: [good] });
  assert.equal(during.status, 503);
  assert.match(during.body.error, /model "text_orientation" is not ready: it is unloading/);
  await Promise.all(busy);
  assert.equal((await unloading).status, 200);
  const after = await send({ inputs: [good] });
  assert.equal(after.status, 503);
  assert.match(after.body.error, /it is unavailable \(unloaded\)/);
  assert.equal((await fetch(`${s.http}/v2/health/live`)).status, 200);
  assert.equal((await post(`${s.http}/v2/repository/models/${TEXT_ORIENTATION}/load`, {})).status, 200);
  assert.equal((await send({ inputs: [good] })).status, 200);
});
