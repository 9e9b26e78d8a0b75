/**
 * Request inputs for a load: zeros, seeded random values, or the tensors of a JSON file in
 * perf_analyzer's --input-data format ({"data": [{"<input>": [..] | {"content": [..], "shape": [..]}}, ...]}),
 * stacked into batches of the wanted size. A small pool is built once and cycled, so making
 * inputs costs nothing during a measurement.
 */
import { readFile } from 'node:fs/promises';
import { errors } from '../errors.js';
import { elementCount, zeros, type DataType, type TensorData, type TensorMap } from '../tensor.js';
import { seededRandom, type Random } from './rng.js';
import type { TargetInput, TargetModel } from './target.js';
import { flatValues } from '../protocol/tensor-wire.js';

export type InputData = { kind: 'zero' } | { kind: 'random'; seed?: number } | { kind: 'file'; path: string };

export interface InputSource {
  batchSize: number;
  /** The next request's inputs. */
  next(): TensorMap;
}

const POOL_SIZE = 4;

/** Parses the --input-data option: "zero", "random" or a JSON file path. */
export function parseInputData(value: string): InputData {
  if (value === 'zero' || value === 'random') return { kind: value };
  if (value.endsWith('.json')) return { kind: 'file', path: value };
  throw errors.invalidArg(
    `input data must be "zero", "random" or a path ending in .json, got ${JSON.stringify(value)}`,
  );
}

/**
 * Builds the inputs of a model for a batch size. `shapes` gives the size of dimensions the model
 * leaves dynamic (-1), per input name, without the batch dimension.
 */
export async function createInputSource(
  model: TargetModel,
  data: InputData,
  batchSize = 1,
  shapes: Record<string, number[]> = {},
): Promise<InputSource> {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw errors.invalidArg(`batch size must be an integer >= 1, got ${batchSize}`);
  if (model.maxBatchSize === 0 && batchSize > 1)
    throw errors.invalidArg(
      `model "${model.name}" takes no batch dimension (max_batch_size 0), so batch size ${batchSize} cannot be sent`,
    );
  if (model.maxBatchSize > 0 && batchSize > model.maxBatchSize)
    throw errors.invalidArg(
      `batch size ${batchSize} exceeds model "${model.name}"'s max_batch_size ${model.maxBatchSize}`,
    );
  const rows = data.kind === 'file' ? await readInputFile(data.path, model) : null;
  const random = seededRandom(data.kind === 'random' ? (data.seed ?? 1) : 1);
  const pool: TensorMap[] = [];
  for (let p = 0; p < POOL_SIZE; p++) {
    const feeds: TensorMap = {};
    for (const input of model.inputs) {
      const dims = rows
        ? rowShape(rows[(p * batchSize) % rows.length], input, model)
        : concreteDims(input, shapes, model.name);
      const shape = model.maxBatchSize > 0 ? [batchSize, ...dims] : dims;
      const n = elementCount(shape);
      let values: TensorData;
      if (rows) values = stackRows(rows, p * batchSize, batchSize, input, elementCount(dims));
      else if (data.kind === 'random') values = randomData(input.datatype, n, random);
      else values = zeros(input.datatype, n);
      feeds[input.name] = { datatype: input.datatype, shape, data: values };
    }
    pool.push(feeds);
    if (data.kind === 'zero') break; // every zero tensor is the same
  }
  const masters = pool.map(cloneMap);
  let i = 0;
  return {
    batchSize,
    next() {
      const k = i++ % pool.length;
      // Should a target ever transfer (detach) our buffers to a worker, refill from the master copy.
      if (Object.values(pool[k]).some((t) => !Array.isArray(t.data) && t.data.buffer.byteLength === 0))
        pool[k] = cloneMap(masters[k]);
      return pool[k];
    },
  };
}

function cloneMap(m: TensorMap): TensorMap {
  const out: TensorMap = {};
  for (const [k, t] of Object.entries(m)) out[k] = { ...t, shape: [...t.shape], data: t.data.slice() as TensorData };
  return out;
}

function concreteDims(input: TargetInput, shapes: Record<string, number[]>, model: string): number[] {
  if (!input.dims.includes(-1)) return input.dims;
  const given = shapes[input.name];
  if (
    !given ||
    given.length !== input.dims.length ||
    given.some((d, i) => !(d >= 1) || (input.dims[i] !== -1 && input.dims[i] !== d))
  )
    throw errors.invalidArg(
      `input "${input.name}" of model "${model}" has dynamic dims [${input.dims.join(', ')}]: give its shape, ` +
        `e.g. --shape ${input.name}:${input.dims.map((d) => (d === -1 ? 1 : d)).join(',')}` +
        `${given ? ` (got [${given.join(', ')}])` : ''}`,
    );
  return given;
}

function randomData(dt: DataType, n: number, random: Random): TensorData {
  const out = zeros(dt, n);
  if (Array.isArray(out)) return out.map(() => random().toString(36).slice(2, 10));
  if (out instanceof Float32Array || out instanceof Float64Array) for (let i = 0; i < n; i++) out[i] = random() * 2 - 1;
  else if (out instanceof BigInt64Array || out instanceof BigUint64Array)
    for (let i = 0; i < n; i++) out[i] = BigInt(Math.floor(random() * 100));
  else if (dt === 'FP16')
    for (let i = 0; i < n; i++) (out as Uint16Array)[i] = 0x3c00; // 1.0: random bit patterns could be NaN
  else if (dt === 'BOOL') for (let i = 0; i < n; i++) (out as Uint8Array)[i] = random() < 0.5 ? 0 : 1;
  else for (let i = 0; i < n; i++) (out as Int32Array)[i] = Math.floor(random() * 100);
  return out;
}

type Row = Record<string, { content: readonly unknown[]; shape?: number[] }>;

async function readInputFile(file: string, model: TargetModel): Promise<Row[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw errors.invalidArg(`input data file "${file}" cannot be read as JSON: ${(err as Error).message}`);
  }
  const data = (json as { data?: unknown })?.data;
  if (!Array.isArray(data) || data.length === 0)
    throw errors.invalidArg(
      `input data file "${file}" must hold {"data": [ {<input name>: values}, ... ]} with at least one entry`,
    );
  return data.map((entry, i) => {
    const row: Row = {};
    for (const input of model.inputs) {
      const v = (entry as Record<string, unknown>)?.[input.name];
      if (Array.isArray(v)) row[input.name] = { content: flatValues(v) };
      else if (v && typeof v === 'object' && Array.isArray((v as { content?: unknown }).content))
        row[input.name] = {
          content: flatValues((v as { content: unknown[] }).content),
          shape: (v as { shape?: number[] }).shape,
        };
      else
        throw errors.invalidArg(
          `input data file "${file}": data[${i}] has no values for input "${input.name}" of model "${model.name}"`,
        );
    }
    return row;
  });
}

function rowShape(row: Row, input: TargetInput, model: TargetModel): number[] {
  const r = row[input.name];
  const dims = r.shape
    ? model.maxBatchSize > 0 && r.shape.length === input.dims.length + 1
      ? r.shape.slice(1)
      : r.shape
    : input.dims;
  if (dims.includes(-1))
    throw errors.invalidArg(
      `input data for "${input.name}" of model "${model.name}" needs a "shape": ` +
        `the model's dims [${input.dims.join(', ')}] are dynamic`,
    );
  if (elementCount(dims) !== r.content.length)
    throw errors.invalidArg(
      `input data for "${input.name}" of model "${model.name}" has ${r.content.length} values, ` +
        `but shape [${dims.join(', ')}] needs ${elementCount(dims)}`,
    );
  return dims;
}

function stackRows(rows: Row[], first: number, batch: number, input: TargetInput, perRow: number): TensorData {
  const out = zeros(input.datatype, perRow * batch) as unknown as { [i: number]: unknown };
  for (let b = 0; b < batch; b++) {
    const content = rows[(first + b) % rows.length][input.name].content;
    for (let j = 0; j < perRow; j++) {
      const v = content[j];
      out[b * perRow + j] =
        out instanceof BigInt64Array || out instanceof BigUint64Array
          ? BigInt(v as number)
          : Array.isArray(out)
            ? String(v)
            : v;
    }
  }
  return out as unknown as TensorData;
}
