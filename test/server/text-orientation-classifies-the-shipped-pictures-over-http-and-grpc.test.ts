import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcClient, HttpClient, imageInputs } from '../../src/client/index.js';
import { tensorFromRaw } from '../../src/protocol/tensor-wire.js';
import { textOf, type BytesElement } from '../../src/tensor.js';
import { examplePictures } from '../fixtures/images.js';
import { serveClassifier, post, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

let s: Served;
let upright: Buffer;
let flipped: Buffer;
before(async () => {
  s = await serveClassifier();
  ({ upright, flipped } = await examplePictures());
});
after(() => s.close());

/** Top-1 classification rows "score:index:label" → the labels, and every score must be confident. */
function labels(rows: readonly BytesElement[]): string[] {
  return rows.map((r) => {
    const [score, , label] = textOf(r).split(':');
    assert.ok(Number(score) > 0.9, `score ${score} of ${textOf(r)}`);
    return label;
  });
}

test('HTTP JSON: base64 pictures come back labelled 0 (upright) and 180 (turned)', async () => {
  const body = {
    inputs: [
      {
        name: 'x',
        datatype: 'BYTES',
        shape: [2],
        data: [upright.toString('base64'), `data:image/png;base64,${flipped.toString('base64')}`],
      },
    ],
    outputs: [{ name: OUTPUT, parameters: { classification: 1 } }],
  };
  const r = await post(`${s.http}/v2/models/${TEXT_ORIENTATION}/infer`, body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.outputs[0].shape, [2, 1]);
  assert.deepEqual(labels(r.body.outputs[0].data), ['0', '180']);
});

test('HTTP binary and JSON through the client, and gRPC raw contents, all label the pictures 0 and 180', async () => {
  const grpc = new GrpcClient(s.grpc);
  const http = new HttpClient(s.http);
  try {
    for (const [client, binary] of [
      [http, true],
      [http, false],
      [grpc, true],
    ] as const) {
      const r = await client.infer(TEXT_ORIENTATION, imageInputs('x', [flipped, upright]), {
        classification: 1,
        binary,
      });
      assert.deepEqual(
        labels(r.outputs[OUTPUT].data as string[]),
        ['180', '0'],
        `${client.constructor.name} binary=${binary}`,
      );
    }
  } finally {
    grpc.close();
    http.close();
  }
});

test('gRPC bytes_contents carries the pictures unchanged too', async () => {
  const grpc = new GrpcClient(s.grpc);
  try {
    const res = await grpc.call<{ outputs: { datatype: string; shape: string[] }[]; raw_output_contents: Buffer[] }>(
      'ModelInfer',
      {
        model_name: TEXT_ORIENTATION,
        inputs: [{ name: 'x', datatype: 'BYTES', shape: [2], contents: { bytes_contents: [upright, flipped] } }],
        outputs: [{ name: OUTPUT, parameters: { classification: { int64_param: 1 } } }],
      },
    );
    const t = tensorFromRaw('BYTES', res.outputs[0].shape.map(Number), res.raw_output_contents[0], 'output');
    assert.deepEqual(labels(t.data as BytesElement[]), ['0', '180']);
  } finally {
    grpc.close();
  }
});

test('a camera JPEG stored upside down with EXIF orientation 3 is turned upright before classification', async () => {
  const sharp = (await import('sharp')).default;
  const stored = await sharp(flipped).jpeg({ quality: 95 }).withMetadata({ orientation: 3 }).toBuffer();
  const r = await s.engine.infer(TEXT_ORIENTATION, { x: { datatype: 'BYTES', shape: [1], data: [stored] } });
  const [p0, p180] = r.outputs[OUTPUT].data as Float32Array;
  assert.ok(p0 > 0.9 && p180 < 0.1, `upright expected, got ${p0}, ${p180}`);
});
