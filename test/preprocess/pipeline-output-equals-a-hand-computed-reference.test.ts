import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tinyPng, pipelineFor, reference, PIXELS } from './tiny-image.js';

const NORM = { scale: 1 / 255, mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] };
const FILL = [255, 255, 255];
const px = (y: number, x: number) => PIXELS[y][x];

// Each mode with a target chosen so the expected pixels follow from the rule alone (no kernel
// arithmetic): the 4x2 picture kept, cropped, embedded, padded, or repeated exactly 2x.
const cases: {
  mode: string;
  size: [number, number];
  pick: (y: number, x: number) => number[] | null;
  extra?: Record<string, unknown>;
}[] = [
  { mode: 'stretch', size: [2, 4], pick: px },
  { mode: 'stretch', size: [4, 8], pick: (y, x) => px(y >> 1, x >> 1), extra: { interpolation: 'nearest' } },
  { mode: 'shorter_side_center_crop', size: [2, 2], pick: (y, x) => px(y, x + 1) },
  {
    mode: 'letterbox',
    size: [4, 4],
    pick: (y, x) => (y === 0 || y === 3 ? FILL : px(y - 1, x)),
    extra: { pad_value: 255 },
  },
  { mode: 'fit_height_pad_right', size: [2, 8], pick: (y, x) => (x < 4 ? px(y, x) : null) },
];

for (const { mode, size, pick, extra } of cases) {
  for (const layout of ['NCHW', 'NHWC'] as const) {
    for (const color of ['RGB', 'BGR'] as const) {
      const label =
        `${mode}${extra?.interpolation ? ` (${extra.interpolation})` : ''} ` +
        `to ${size[0]}x${size[1]}, ${layout}, ${color}`;
      test(`a 4x2 PNG through ${label} equals the hand-computed tensor`, async () => {
        const [H, W] = size;
        const dims = layout === 'NCHW' ? [3, H, W] : [H, W, 3];
        const pipeline = pipelineFor(dims, { resize: mode, color, mean: NORM.mean, std: NORM.std, ...extra });
        const png = await tinyPng();
        const out = await pipeline.run({ x: { datatype: 'BYTES', shape: [2], data: [png, png.toString('base64')] } });
        assert.deepEqual(out.x.shape, [2, ...dims]);
        const want = reference(H, W, layout, color, NORM, pick);
        const got = Array.from(out.x.data as Float32Array);
        assert.equal(got.length, 2 * want.length);
        for (const [i, v] of got.entries())
          assert.ok(Math.abs(v - want[i % want.length]) < 1e-5, `element ${i}: ${v} != ${want[i % want.length]}`);
      });
    }
  }
}

test('UINT8 inputs get the pixels as they are, and raw pixels in the model colour order pass through', async () => {
  const rawBgr = Buffer.from(PIXELS.flat().flatMap(([r, g, b]) => [b, g, r]));
  const pipeline = pipelineFor([2, 4, 3], { formats: ['png', 'raw'], raw_shape: [2, 4, 3], color: 'BGR' }, 'UINT8');
  const out = await pipeline.run({ x: { datatype: 'BYTES', shape: [2, 1], data: [rawBgr, await tinyPng()] } });
  assert.deepEqual(out.x.shape, [2, 2, 4, 3]);
  assert.equal(out.x.datatype, 'UINT8');
  assert.deepEqual(Array.from(out.x.data as Uint8Array), [...rawBgr, ...rawBgr]);
});
