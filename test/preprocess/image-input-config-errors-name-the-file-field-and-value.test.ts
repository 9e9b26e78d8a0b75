import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completeFromOnnx, validateModelConfig } from '../../src/repository/model-config.js';
import type { DataType } from '../../src/tensor.js';

const FILE = 'models/m/config.json';
const meta = (dims: number[], datatype: DataType = 'FP32') => ({
  irVersion: 8,
  opsets: {},
  producer: 'test',
  inputs: [{ name: 'x', datatype, dims: [-1, ...dims], dimNames: [] }],
  outputs: [{ name: 'y', datatype: 'FP32' as DataType, dims: [-1, 2], dimNames: [] }],
});
const load = (imageInput: unknown, dims = [3, 48, 192], datatype: DataType = 'FP32') =>
  completeFromOnnx(validateModelConfig({ image_input: imageInput }, FILE, 'm'), meta(dims, datatype), FILE);

test('defaults come from the model input: size, layout, colour, datatype, scale 1/255', () => {
  const c = load({})!.image_input!;
  assert.deepEqual(
    { ...c },
    {
      input: 'x',
      formats: ['jpeg', 'png', 'webp'],
      resize: 'stretch',
      interpolation: 'linear',
      size: [48, 192],
      color: 'RGB',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      layout: 'NCHW',
      datatype: 'FP32',
      pad_value: 0,
      limits: { max_bytes: 16 * 2 ** 20, max_pixels: 25_000_000 },
    },
  );
  assert.equal(load({}, [224, 224, 3], 'UINT8').image_input!.layout, 'NHWC');
  assert.deepEqual(load({ size: [64, 64] }, [3, -1, -1]).image_input!.size, [64, 64]);
});

const cases: [string, unknown, RegExp, number[]?][] = [
  ['not an object', 'yes', /field "image_input" must be an object, got "yes"/],
  ['an unknown field', { resise: 'stretch' }, /field "image_input.resise" is not a known field/],
  [
    'an unknown resize mode',
    { resize: 'crop' },
    new RegExp(
      'field "image_input.resize" must be one of "stretch", "shorter_side_center_crop",' +
        ' "letterbox", "fit_height_pad_right", got "crop"',
    ),
  ],
  [
    'an unknown format',
    { formats: ['gif'] },
    /field "image_input.formats" must be a non-empty list of "jpeg", "png", "webp", "raw", got \["gif"\]/,
  ],
  ['raw without raw_shape', { formats: ['raw'] }, /field "image_input.raw_shape" is needed when formats has "raw"/],
  ['a bad colour', { color: 'RGBA' }, /field "image_input.color" must be "RGB", "BGR" or "GRAY", got "RGBA"/],
  [
    'std with a zero',
    { std: [0.5, 0, 1] },
    /field "image_input.std" must be a list of 1 or 3 numbers other than 0, got \[0.5,0,1\]/,
  ],
  [
    'a limit below 1',
    { limits: { max_pixels: 0 } },
    /field "image_input.limits.max_pixels" must be an integer >= 1, got 0/,
  ],
  [
    'an input the model lacks',
    { input: 'image' },
    /field "image_input.input" must name a model input \(inputs: x\), got "image"/,
  ],
  [
    'an input that is not a picture',
    {},
    /field "image_input.input" must be an image input: dims \[C, H, W\] or \[H, W, C\].*got "x"/,
    [10],
  ],
  [
    'a size that disagrees with the input',
    { size: [32, 32] },
    /field "image_input.size" must match input "x" height and width \[48, 192\], got \[32,32\]/,
  ],
  [
    'a dynamic size without size',
    {},
    /field "image_input.size" is needed: input "x" has dynamic height or width/,
    [3, -1, -1],
  ],
  [
    'a layout that does not fit',
    { layout: 'NHWC' },
    /field "image_input.layout" must fit input "x" dims \[3, 48, 192\]/,
  ],
  [
    'GRAY for a 3-channel input',
    { color: 'GRAY' },
    /field "image_input.color" must be "RGB" or "BGR" for input "x" with 3 channel\(s\), got "GRAY"/,
  ],
];

for (const [what, imageInput, message, dims] of cases) {
  test(`image_input with ${what} is refused naming the file, field and value`, () => {
    assert.throws(
      () => load(imageInput, dims),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'INVALID_ARG');
        assert.ok(err.message.startsWith(`${FILE}: `), err.message);
        assert.match(err.message, message);
        return true;
      },
    );
  });
}
