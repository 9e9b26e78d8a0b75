/**
 * Warm-up data from files (Triton's model_warmup `input_data_file`): raw row-major bytes of one row
 * of an input, kept in the model folder's `warmup/` sub-folder; BYTES elements each as a 4-byte
 * little-endian length and the bytes. Read and checked when the model is read, so a file of the
 * wrong size fails the load with the file, its size and the size the dims need.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../errors.js';
import { elementBytes, elementCount, fromBytes, fromConfigType, type TensorData } from '../tensor.js';
import { decodeByteStrings } from '../protocol/binary-data.js';
import type { ModelConfig } from './model-config.js';

/** Per warm-up sample (in config order), the data read from files, by input name. */
export type WarmupFileData = Record<string, TensorData>[];

/** Folder of a model where its warm-up files are, as in Triton. */
export const WARMUP_FOLDER = 'warmup';

export async function readWarmupData(modelDir: string, config: ModelConfig): Promise<WarmupFileData> {
  const samples: WarmupFileData = [];
  for (const [at, sample] of (config.model_warmup ?? []).entries()) {
    const data: Record<string, TensorData> = {};
    for (const [name, input] of Object.entries(sample.inputs)) {
      if (input.input_data_file === undefined) continue;
      const file = path.join(modelDir, WARMUP_FOLDER, input.input_data_file);
      const field = `model_warmup[${at}].inputs.${name}.input_data_file`;
      const bytes = await readFile(file).catch((err: Error) => {
        throw errors.invalidArg(`model "${config.name}": ${field} "${file}" cannot be read: ${err.message}`, {
          file,
        });
      });
      data[name] = decode(bytes, fromConfigType(input.data_type)!, input.dims, `model "${config.name}": ${field}`);
    }
    samples.push(data);
  }
  return samples;
}

function decode(bytes: Buffer, datatype: NonNullable<ReturnType<typeof fromConfigType>>, dims: number[], what: string) {
  const n = elementCount(dims);
  if (datatype === 'BYTES') return decodeByteStrings(bytes, what, n, `[${dims.join(', ')}]`);
  const want = n * elementBytes(datatype);
  if (bytes.byteLength !== want)
    throw errors.invalidArg(
      `${what} holds ${bytes.byteLength} bytes, but dims [${dims.join(', ')}] of ${datatype} need ${want}`,
    );
  return fromBytes(datatype, bytes);
}
