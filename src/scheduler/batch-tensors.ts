/**
 * Merging requests into one batch along dimension 0, and splitting the batch's outputs back so
 * each response holds exactly its own rows.
 */
import { uninitialized, type Tensor, type TensorMap } from '../tensor.js';
import { batchBuffers } from '../runtime/batch-buffers.js';

/** Requests with the same key can be merged: same input names, datatypes, non-batch dims, outputs. */
export function batchKey(inputs: TensorMap, outputs?: string[]): string {
  const parts = Object.keys(inputs)
    .sort()
    .map((n) => `${n}:${inputs[n].datatype}:${inputs[n].shape.slice(1).join('x')}`);
  return `${parts.join(',')}|${outputs ? [...outputs].sort().join(',') : '*'}`;
}

export function mergeInputs(list: TensorMap[]): TensorMap {
  if (list.length === 1) return list[0];
  const merged: TensorMap = {};
  for (const name of Object.keys(list[0])) {
    const parts = list.map((m) => m[name]);
    const rows = parts.reduce((n, t) => n + t.shape[0], 0);
    merged[name] = { datatype: parts[0].datatype, shape: [rows, ...parts[0].shape.slice(1)], data: concat(parts) };
  }
  return merged;
}

function concat(parts: Tensor[]): Tensor['data'] {
  if (Array.isArray(parts[0].data)) return parts.flatMap((p) => p.data as string[]);
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const out = uninitialized(parts[0].datatype, total, (bytes) => batchBuffers.take(bytes)) as Float32Array;
  let offset = 0;
  for (const p of parts) {
    out.set(p.data as Float32Array, offset);
    offset += p.data.length;
  }
  return out;
}

/** Splits each output's rows among the requests, in order; rows[i] is request i's batch size. */
export function splitOutputs(outputs: TensorMap, rows: number[]): TensorMap[] {
  if (rows.length === 1) return [outputs];
  const total = rows.reduce((a, b) => a + b, 0);
  const result: TensorMap[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    if (t.shape[0] !== total)
      throw new Error(
        `output "${name}" has ${t.shape[0]} rows for a batch of ${total}: it cannot be split per request`,
      );
    const perRow = t.data.length / total;
    let row = 0;
    rows.forEach((r, i) => {
      const data = Array.isArray(t.data)
        ? t.data.slice(row * perRow, (row + r) * perRow)
        : t.data.subarray(row * perRow, (row + r) * perRow);
      result[i][name] = { datatype: t.datatype, shape: [r, ...t.shape.slice(1)], data };
      row += r;
    });
  }
  return result;
}

/** The ArrayBuffers behind a merged batch's tensors (BYTES tensors have none). */
export function ownedBuffers(inputs: TensorMap): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const t of Object.values(inputs))
    if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) list.push(t.data.buffer);
  return list;
}

/** The same tensors over fresh buffers of exactly their size, safe to transfer away. */
export function exactCopies(inputs: TensorMap): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(inputs)) out[name] = Array.isArray(t.data) ? t : { ...t, data: concat([t]) };
  return out;
}
