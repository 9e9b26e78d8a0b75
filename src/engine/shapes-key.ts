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

/**
 * The table with given sizes for its dynamic dims (`serve --shape x:3,48,192`: input name to dims
 * without the batch dim). A given shape applies where its rank matches and it agrees with every
 * fixed dim; other inputs keep their -1. Requests may still carry any shape the model accepts:
 * this sizes the warm-up and the key under which the tuning is looked up before the first request.
 */
export function withGivenShapes(table: InputTable, given: Record<string, number[]>): InputTable {
  const inputs = new Map(table.inputs);
  for (const [name, spec] of table.inputs) {
    const dims = given[name];
    if (!dims || !spec.dims.includes(-1) || dims.length !== spec.dims.length) continue;
    if (spec.dims.every((d, i) => d === -1 || d === dims[i])) inputs.set(name, { ...spec, dims: [...dims] });
  }
  return { ...table, inputs };
}
