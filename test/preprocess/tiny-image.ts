/** A 4x2 RGB picture with distinct pixels, the ImagePipeline of a model taking it, and the hand-made reference. */
import sharp from 'sharp';
import { completeFromOnnx, validateModelConfig } from '../../src/repository/model-config.js';
import { ImagePipeline } from '../../src/preprocess/index.js';
import type { DataType } from '../../src/tensor.js';

/** PIXELS[y][x] = [r, g, b]: row 0 then row 1, every value distinct. */
export const PIXELS = [
  [
    [10, 20, 30],
    [40, 50, 60],
    [70, 80, 90],
    [100, 110, 120],
  ],
  [
    [130, 140, 150],
    [160, 170, 180],
    [190, 200, 210],
    [220, 230, 240],
  ],
];

export function tinyPng(): Promise<Buffer> {
  const raw = Buffer.from(PIXELS.flat(2));
  return sharp(raw, { raw: { width: 4, height: 2, channels: 3 } })
    .png()
    .toBuffer();
}

/** A pipeline for a model with input x of `dims` (after the batch dimension) and the given image_input. */
export function pipelineFor(
  dims: number[],
  imageInput: Record<string, unknown>,
  datatype: DataType = 'FP32',
  maxBatch = 4,
): ImagePipeline {
  const raw = { max_batch_size: maxBatch, image_input: imageInput };
  const config = validateModelConfig(raw, 'm/config.json', 'm');
  const lead = maxBatch > 0 ? [-1] : [];
  const meta = {
    irVersion: 8,
    opsets: {},
    producer: 'test',
    inputs: [{ name: 'x', datatype, dims: [...lead, ...dims], dimNames: [] }],
    outputs: [{ name: 'y', datatype: 'FP32' as DataType, dims: [...lead, 2], dimNames: [] }],
  };
  return ImagePipeline.fromConfig(completeFromOnnx(config, meta, 'm/config.json'))!;
}

/**
 * The reference tensor, computed by hand from PIXELS: `pick(y, x)` gives the source pixel of output
 * row y, column x (or a fill pixel, or null for a zero in the tensor), then (p * scale - mean) / std per channel.
 */
export function reference(
  H: number,
  W: number,
  layout: 'NCHW' | 'NHWC',
  order: 'RGB' | 'BGR',
  norm: { scale: number; mean: number[]; std: number[] },
  pick: (y: number, x: number) => number[] | null,
): number[] {
  const out = new Array<number>(3 * H * W).fill(0);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = pick(y, x);
      if (!p) continue;
      const ordered = order === 'BGR' ? [p[2], p[1], p[0]] : p;
      for (let c = 0; c < 3; c++) {
        const v = (ordered[c] * norm.scale - norm.mean[c]) / norm.std[c];
        out[layout === 'NCHW' ? c * H * W + y * W + x : (y * W + x) * 3 + c] = v;
      }
    }
  }
  return out;
}
