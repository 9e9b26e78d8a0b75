/**
 * One image → 8-bit pixels at the model's size, with sharp (libvips). Decoding and resizing run
 * asynchronously on libuv's thread pool, never on the event loop. Limits are checked before any
 * pixel is decoded: the byte size first, then width x height from the header, and libvips' own
 * pixel limit as a backstop, so a decompression bomb is refused without being expanded.
 */
import type { Sharp } from 'sharp';
import { errors } from '../errors.js';
import type { ResolvedImageInput } from './config.js';
import { firstBytes, sniffFormat } from './sniff.js';

type SharpFactory = typeof import('sharp')['default'];
let sharpModule: Promise<SharpFactory> | undefined;

/**
 * sharp, loaded on first use: importing it maps libvips (about 19 MB of library) and takes 50-90
 * ms on a small box, which a server with no picture-taking model, or one still opening its
 * ports, need not pay. ImagePipeline starts it when a model that takes pictures is set up.
 */
export function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then(({ default: sharp }) => {
    // Every request brings a different image: libvips' operation cache would only hold memory (and
    // would make a benchmark that repeats one image look faster than real traffic).
    sharp.cache(false);
    return sharp;
  });
  return sharpModule;
}

/** Interleaved 8-bit pixels, `height` rows of `width` x `channels` bytes, in RGB (or grey) order. */
export interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

/** Decodes and resizes one image; every failure is INVALID_ARG starting with `what`. */
export async function decodeImage(bytes: Buffer, spec: ResolvedImageInput, what: string): Promise<Pixels> {
  const { max_bytes, max_pixels } = spec.limits;
  if (bytes.length > max_bytes)
    throw errors.invalidArg(`${what} is ${bytes.length} bytes, more than image_input.limits.max_bytes (${max_bytes})`);
  if (bytes.length === 0) throw errors.invalidArg(`${what} is empty (0 bytes): expected an encoded image`);
  const format = sniffFormat(bytes);
  const sharp = await loadSharp();
  const accepted = spec.formats.filter((f) => f !== 'raw').join(', ') || 'none';
  let img: Sharp;
  let width: number;
  let height: number;
  if (format) {
    if (!spec.formats.includes(format))
      throw errors.invalidArg(`${what} is a ${format.toUpperCase()} image, but this model accepts ${accepted}`);
    const meta = await sharp(bytes, { limitInputPixels: false })
      .metadata()
      .catch((err: Error) => {
        throw errors.invalidArg(
          `${what} (${bytes.length} bytes) is not a readable ${format.toUpperCase()} image: ${err.message}`,
        );
      });
    [width, height] = (meta.orientation ?? 1) >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
    if (!(width > 0 && height > 0))
      throw errors.invalidArg(
        `${what} has no valid size in its ${format.toUpperCase()} header (width ${width}, height ${height})`,
      );
    if (width * height > max_pixels)
      throw errors.invalidArg(
        `${what} is ${width}x${height} = ${width * height} pixels, ` +
          `more than image_input.limits.max_pixels (${max_pixels})`,
      );
    // EXIF orientation
    img = sharp(bytes, { limitInputPixels: max_pixels, failOn: 'error', sequentialRead: true }).rotate();
  } else if (spec.raw_shape && spec.formats.includes('raw')) {
    const [h, w, c] = spec.raw_shape;
    if (bytes.length !== h * w * c)
      throw errors.invalidArg(
        `${what} (${bytes.length} bytes, starting ${firstBytes(bytes)}) is neither an encoded image (${accepted}) ` +
          `nor raw pixels of raw_shape [${h}, ${w}, ${c}] (${h * w * c} bytes)`,
      );
    if (w * h > max_pixels)
      throw errors.invalidArg(
        `${what} is ${w}x${h} = ${w * h} pixels, more than image_input.limits.max_pixels (${max_pixels})`,
      );
    [width, height] = [w, h];
    // Raw pixels come in the model's colour order; BGR is swapped to RGB here and back when written.
    const rgb = spec.color === 'BGR' ? swapRedBlue(bytes, c) : bytes;
    img = sharp(rgb, { raw: { width: w, height: h, channels: c as 1 | 3 } });
  } else {
    throw errors.invalidArg(
      `${what} (${bytes.length} bytes, starting ${firstBytes(bytes)}) ` +
        `is not a ${accepted.replace(/, (?=[^,]*$)/, ' or ')} image`,
    );
  }
  img = spec.color === 'GRAY' ? img.flatten().grayscale() : img.flatten().toColourspace('srgb');
  img = resize(img, width, height, spec);
  const { data, info } = await img
    .raw()
    .toBuffer({ resolveWithObject: true })
    .catch((err: Error) => {
      throw errors.invalidArg(
        `${what} (${bytes.length} bytes${format ? `, ${format.toUpperCase()}` : ''}) cannot be decoded: ${err.message}`,
      );
    });
  if (info.channels !== spec.channels)
    throw errors.internal(`${what}: decoded to ${info.channels} channels, expected ${spec.channels}`);
  return { data, width: info.width, height: info.height, channels: info.channels };
}

function resize(img: Sharp, width: number, height: number, spec: ResolvedImageInput): Sharp {
  const [h, w] = spec.size;
  const kernel = spec.interpolation;
  switch (spec.resize) {
    case 'stretch':
      return img.resize(w, h, { fit: 'fill', kernel });
    case 'shorter_side_center_crop':
      return img.resize(w, h, { fit: 'cover', position: 'centre', kernel });
    case 'letterbox': {
      const p = spec.pad_value;
      return img.resize(w, h, {
        fit: 'contain',
        position: 'centre',
        background: { r: p, g: p, b: p, alpha: 1 },
        kernel,
      });
    }
    case 'fit_height_pad_right':
      return img.resize(fitHeightWidth(width, height, h, w), h, { fit: 'fill', kernel });
  }
}

/** PaddleOCR's rule: width ceil(H * w / h), at most W; the rest of the row is padding. */
export function fitHeightWidth(width: number, height: number, targetH: number, targetW: number): number {
  return Math.max(1, Math.min(targetW, Math.ceil((targetH * width) / height)));
}

function swapRedBlue(b: Buffer, channels: number): Buffer {
  if (channels !== 3) return b;
  const out = Buffer.allocUnsafe(b.length);
  for (let i = 0; i < b.length; i += 3) {
    out[i] = b[i + 2];
    out[i + 1] = b[i + 1];
    out[i + 2] = b[i];
  }
  return out;
}
