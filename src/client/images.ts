/**
 * Pictures as request inputs: a model with an `image_input` pipeline takes its input as BYTES,
 * one encoded picture (JPEG, PNG, WebP, or raw pixels) per batch row. The bytes travel unchanged
 * as binary data (HTTP) or raw contents (gRPC); with JSON tensors the HTTP client sends them as
 * base64, which the server's pipeline decodes.
 */
import { readFile } from 'node:fs/promises';
import type { BytesElement, TensorMap } from '../tensor.js';

/** `{[input]: BYTES [n]}` holding the pictures, for `client.infer(model, imageInputs('x', [jpeg]))`. */
export function imageInputs(input: string, pictures: Uint8Array[]): TensorMap {
  return { [input]: { datatype: 'BYTES', shape: [pictures.length], data: [...pictures] } };
}

/** Reads picture files into imageInputs. */
export async function imageFileInputs(input: string, files: string[]): Promise<TensorMap> {
  return imageInputs(input, await Promise.all(files.map((f) => readFile(f))));
}

/** BYTES elements as JSON values: strings as they are, bytes as base64 (JSON cannot carry bytes). */
export function bytesToJson(values: readonly BytesElement[]): string[] {
  return values.map((v) =>
    typeof v === 'string' ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'),
  );
}
