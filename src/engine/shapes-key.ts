/**
 * The input shapes a model is measured at, as one string (per request, without the batch
 * dimension, inputs by name): the key under which tunings are stored. A model whose dims are all
 * fixed has one key from its config; one with dynamic dims has the key of what requests carry.
 */
import type { InputTable } from './validate.js';

/** The key from the config's dims, or null when a dim is dynamic (-1). */
export function configShapesKey(table: InputTable): string | null {
  const dims = [...table.inputs.values()].map((s) => [s.name, s.dims] as const);
  return dims.some(([, d]) => d.includes(-1)) ? null : keyOf(dims);
}

/** The key of full request shapes (the batch dim, where the model has one, is dropped). */
export function shapesKey(table: InputTable, shapes: (readonly [string, readonly number[]])[]): string {
  const skip = table.maxBatchSize > 0 ? 1 : 0;
  return keyOf(shapes.map(([name, shape]) => [name, shape.slice(skip)] as const));
}

function keyOf(dims: (readonly [string, readonly number[]])[]): string {
  return JSON.stringify(Object.fromEntries([...dims].sort(([a], [b]) => a.localeCompare(b))));
}
