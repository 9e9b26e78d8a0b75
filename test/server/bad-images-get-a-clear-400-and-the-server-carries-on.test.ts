import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { HttpClient, type ServerError, imageInputs } from '../../src/client/index.js';
import { TEXT_ORIENTATION_IMAGE_INPUT } from '../../src/default-repository.js';
import { examplePictures, pngClaiming } from '../fixtures/images.js';
import { serveClassifier, post, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

const LIMITS = { max_bytes: 100_000, max_pixels: 1_000_000 };
let s: Served;
let http: HttpClient;
let good: Buffer;
let jpeg: Buffer;
before(async () => {
  s = await serveClassifier({}, async () => {}, { image_input: { ...TEXT_ORIENTATION_IMAGE_INPUT, limits: LIMITS } });
  http = new HttpClient(s.http);
  good = (await examplePictures()).upright;
  jpeg = await sharp(good).jpeg().toBuffer();
});
after(async () => {
  http.close();
  await s.close();
});

const what = 'input "x" of model "text_orientation": image 0';
// Each bad picture, and the message that names the problem and the value.
const cases: [string, () => Buffer | Promise<Buffer>, RegExp][] = [
  [
    'text that is not a picture',
    () => Buffer.from('hello, I am not a picture'),
    new RegExp(`${what} \\(25 bytes, starting 68 65 6c 6c 6f 2c 20 49 \\.\\.\\.\\) is not a jpeg, png or webp image`),
  ],
  ['an empty element', () => Buffer.alloc(0), new RegExp(`${what} is empty \\(0 bytes\\)`)],
  [
    'a GIF (not an accepted format)',
    () => Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'),
    /is not a jpeg, png or webp image/,
  ],
  [
    'a truncated JPEG',
    () => jpeg.subarray(0, Math.floor(jpeg.length / 2)),
    new RegExp(`${what} \\(\\d+ bytes, JPEG\\) cannot be decoded: .+`),
  ],
  [
    'a truncated PNG',
    () => good.subarray(0, Math.floor(good.length / 2)),
    new RegExp(`${what} \\(\\d+ bytes, PNG\\) cannot be decoded: .+`),
  ],
  [
    'a PNG with a corrupt header',
    () => Buffer.concat([good.subarray(0, 8), Buffer.alloc(40, 7)]),
    new RegExp(`${what} \\(48 bytes\\) is not a readable PNG image: .+`),
  ],
  [
    'a decompression bomb (a 74-byte PNG claiming 100000x100000)',
    () => pngClaiming(100_000, 100_000),
    new RegExp(`${what} is 100000x100000 = 10000000000 pixels, more than image_input.limits.max_pixels \\(1000000\\)`),
  ],
  [
    'a picture over max_pixels',
    () =>
      sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#fff' } })
        .png()
        .toBuffer(),
    /is 1200x1000 = 1200000 pixels, more than image_input.limits.max_pixels \(1000000\)/,
  ],
  [
    'a picture over max_bytes',
    () => Buffer.concat([good, Buffer.alloc(LIMITS.max_bytes)]),
    new RegExp(`${what} is ${100_000 + 2780} bytes, more than image_input.limits.max_bytes \\(100000\\)`),
  ],
];

async function stillServes(): Promise<void> {
  const r = await http.infer(TEXT_ORIENTATION, imageInputs('x', [good]), { classification: 1 });
  assert.match(String(r.outputs[OUTPUT].data[0]), /:0:0$/);
}

for (const [name, make, message] of cases) {
  test(`${name}: 400 naming the problem over HTTP binary and JSON, and the next good picture is served`, async () => {
    const bad = await make();
    for (const binary of [true, false]) {
      await assert.rejects(http.infer(TEXT_ORIENTATION, imageInputs('x', [bad]), { binary }), (err: ServerError) => {
        assert.equal(err.status, 400, err.message);
        assert.match(err.message, message);
        return true;
      });
      await stillServes();
    }
  });
}

test('a JSON string that is not base64, and a wrong BYTES shape, get a 400 too', async () => {
  const url = `${s.http}/v2/models/${TEXT_ORIENTATION}/infer`;
  const notBase64 = await post(url, { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: ['not base64!'] }] });
  assert.equal(notBase64.status, 400);
  assert.match(
    notBase64.body.error,
    /image 0: a string image must be base64 \(JSON cannot carry raw bytes\), got "not base64!"/,
  );
  const shape = await post(url, { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1, 2], data: ['', ''] }] });
  assert.equal(shape.status, 400);
  assert.match(
    shape.body.error,
    /BYTES images must have shape \[n\] or \[n, 1\], one image per batch row, got \[1,2\] for 2 element\(s\)/,
  );
  await stillServes();
});

test('several bad pictures at once, in parallel with good requests, leave the server serving', async () => {
  const bad = await Promise.all(cases.map(([, make]) => make()));
  const results = await Promise.allSettled([
    ...bad.map((b) => http.infer(TEXT_ORIENTATION, imageInputs('x', [b]))),
    ...bad.map(() => stillServes()),
  ]);
  assert.ok(
    results.slice(0, bad.length).every((r) => r.status === 'rejected' && (r.reason as ServerError).status === 400),
  );
  assert.ok(results.slice(bad.length).every((r) => r.status === 'fulfilled'));
});
