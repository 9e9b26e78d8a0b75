/**
 * The warm-up runs every instance makes before it takes requests (Triton's model_warmup): each
 * sample of the config in order, `count` times, with zeros, random values or a file's row repeated
 * for `batch_size` rows. Without samples: zeros of batch 1 for each input, twice (the first run of
 * an ONNX Runtime session allocates; the second is what a request meets); none when a dimension
 * is left dynamic (no safe size to guess).
 */
import { zeros, elementCount, type TensorData, type TensorMap } from '../tensor.js';
import type { WarmupFileData, WarmupSample } from '../repository/index.js';

import type { WarmupRun } from '../runtime/index.js';
import type { InputTable } from './validate.js';
import type { Reshaper } from './reshape.js';

const DEFAULT_RUNS = 2;

export function warmupRuns(
  samples: readonly WarmupSample[] | undefined,
  files: WarmupFileData,
  table: InputTable,
  reshape: Reshaper | null,
): WarmupRun[] {
  const batched = table.maxBatchSize > 0;
  const toModel = (feeds: TensorMap) => (reshape ? reshape.toModel(feeds) : feeds);
  if (!samples?.length) {
    const feeds: TensorMap = {};
    for (const spec of table.inputs.values()) {
      if (spec.dims.includes(-1)) return [];
      const shape = batched ? [1, ...spec.dims] : spec.dims;
      feeds[spec.name] = { datatype: spec.datatype, shape, data: zeros(spec.datatype, elementCount(shape)) };
    }
    return [{ inputs: toModel(feeds), runs: DEFAULT_RUNS }];
  }
  return samples.map((sample, at) => {
    const feeds: TensorMap = {};
    for (const spec of table.inputs.values()) {
      const given = sample.inputs[spec.name];
      const rows = batched ? sample.batch_size : 1;
      const shape = batched ? [rows, ...given.dims] : given.dims;
      const row = files[at]?.[spec.name];
      let data: TensorData;
      if (row) data = repeatRows(row, rows);
      else {
        data = zeros(spec.datatype, elementCount(shape));
        if (given.random_data) fillRandom(data);
      }
      feeds[spec.name] = { datatype: spec.datatype, shape, data };
    }
    return { inputs: toModel(feeds), runs: sample.count };
  });
}

/** One row's data `rows` times over (Triton repeats a sample's inputs up to its batch_size). */
function repeatRows(row: TensorData, rows: number): TensorData {
  if (rows === 1) return row;
  if (Array.isArray(row)) return Array.from({ length: rows }, () => row).flat();
  const out = new (row.constructor as new (n: number) => typeof row)(row.length * rows);
  for (let r = 0; r < rows; r++) (out as Float32Array).set(row as Float32Array, r * row.length);
  return out;
}

/** Random values for a warm-up sample: [0, 1) for floats, 0..9 for integers; BYTES stay empty. */
function fillRandom(data: TensorData): void {
  if (Array.isArray(data)) return;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) data[i] = BigInt(Math.floor(Math.random() * 10));
    return;
  }
  const float = data instanceof Float32Array || data instanceof Float64Array;
  for (let i = 0; i < data.length; i++) data[i] = float ? Math.random() : Math.floor(Math.random() * 10);
}
