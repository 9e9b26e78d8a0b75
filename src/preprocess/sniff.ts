/**
 * Recognizes an encoded image by its first bytes, before any decoder sees it: only the formats a
 * model accepts reach libvips (which could otherwise try loaders we never meant to expose, such
 * as SVG or PDF), and a request that is not an image gets a precise answer.
 */
import type { ImageFormat } from './config.js';

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0) =>
  b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);

/** jpeg, png or webp from the magic bytes; undefined for anything else. */
export function sniffFormat(b: Uint8Array): Exclude<ImageFormat, 'raw'> | undefined {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b, [0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return undefined;
}

/** The first bytes in hex, for messages ("ff d8 ff e0 ..."). */
export function firstBytes(b: Uint8Array, n = 8): string {
  return Array.from(b.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join(' ') + (b.length > n ? ' ...' : '');
}
