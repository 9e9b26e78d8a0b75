/**
 * 8-bit pixels → one picture of the model's input tensor: channel order (RGB, BGR or grey),
 * `(pixel * scale - mean[c]) / std[c]` for FP32 (pixels as they are for UINT8), NCHW or NHWC.
 * Pixels narrower than the target (fit_height_pad_right) leave the rest of each row at 0, which
 * the caller's freshly zeroed tensor already holds.
 */
import type { ResolvedImageInput } from './config.js';
import type { Pixels } from './decode.js';

/** Elements of one picture in the model's tensor: C x H x W. */
export function pictureSize(spec: ResolvedImageInput): number {
  return spec.channels * spec.size[0] * spec.size[1];
}

const tables = new WeakMap<ResolvedImageInput, Float32Array>();

/** Every channel's 256 possible outputs, computed once per pipeline: the loop below is then a lookup. */
function lookupTable(spec: ResolvedImageInput): Float32Array {
  let lut = tables.get(spec);
  if (!lut) {
    lut = new Float32Array(256 * spec.channels);
    const raw = spec.datatype === 'UINT8';
    for (let c = 0; c < spec.channels; c++) {
      for (let p = 0; p < 256; p++) lut[c * 256 + p] = raw ? p : (p * spec.scale - spec.mean[c]) / spec.std[c];
    }
    tables.set(spec, lut);
  }
  return lut;
}

/** Writes `px` as picture number `index` of `out` (a batch of pictures, zero-filled). */
export function writePicture(
  px: Pixels,
  spec: ResolvedImageInput,
  out: Float32Array | Uint8Array,
  index: number,
): void {
  const [H, W] = spec.size;
  const C = spec.channels;
  const plane = H * W;
  const base = index * C * plane;
  const rows = Math.min(px.height, H);
  const cols = Math.min(px.width, W);
  const src = new Uint8Array(px.data.buffer, px.data.byteOffset, px.data.byteLength);
  const srcStride = px.width * px.channels;
  const lut = lookupTable(spec);
  // Output channel c reads source channel from[c]: pixels are RGB, BGR models get them reversed.
  const from = Array.from({ length: C }, (_, c) => (spec.color === 'BGR' ? C - 1 - c : c));
  // Offsets of channel c: a plane apart (NCHW) or adjacent (NHWC); a pixel step of 1 or C.
  const chanStep = spec.layout === 'NCHW' ? plane : 1;
  const pixStep = spec.layout === 'NCHW' ? 1 : C;
  for (let y = 0; y < rows; y++) {
    const rowOut = base + y * W * pixStep;
    const rowIn = y * srcStride;
    for (let c = 0; c < C; c++) {
      const table = c * 256;
      let o = rowOut + c * chanStep;
      let s = rowIn + from[c];
      for (let x = 0; x < cols; x++, s += C, o += pixStep) out[o] = lut[table + src[s]];
    }
  }
}
