/**
 * Checks a request's tensors against the model's input table (built once at load): names,
 * datatypes, shapes, element counts, batch size. Every failure is INVALID_ARG naming the tensor,
 * the bad value and what the model expects; nothing invalid reaches an instance.
 */
import { errors } from '../errors.js';
import { preview } from '../preview.js';
import { dataMatches, elementCount, type DataType, type TensorMap } from '../tensor.js';
import { tensorDataType, type ModelConfig } from '../repository/index.js';

export interface InputSpec {
  name: string;
  datatype: DataType;
  /** Without the batch dimension when the model batches; -1 = any. */
  dims: number[];
}

export interface InputTable {
  model: string;
  maxBatchSize: number;
  inputs: Map<string, InputSpec>;
  outputs: Set<string>;
}

export function buildInputTable(config: ModelConfig): InputTable {
  return {
    model: config.name,
    maxBatchSize: config.max_batch_size,
    inputs: new Map(config.input.map((i) => [i.name, { name: i.name, datatype: tensorDataType(i), dims: i.dims }])),
    outputs: new Set(config.output.map((o) => o.name)),
  };
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Returns the batch size (1 for a model without a batch dimension). */
export function validateInputs(table: InputTable, inputs: TensorMap, outputs?: string[]): number {
  const m = table.model;
  const expected = [...table.inputs.keys()].join(', ');
  for (const name of Object.keys(inputs)) {
    if (!table.inputs.has(name))
      throw errors.invalidArg(`unexpected input "${name}" for model "${m}" (expected: ${expected})`);
  }
  let batch = -1;
  for (const spec of table.inputs.values()) {
    const t = inputs[spec.name];
    if (!t)
      throw errors.invalidArg(
        `model "${m}" expects input "${spec.name}", which the request does not have (expected: ${expected})`,
      );
    if (t.datatype !== spec.datatype)
      throw errors.invalidArg(
        `input "${spec.name}" of model "${m}" has datatype ${t.datatype}, expected ${spec.datatype}` +
          `${t.datatype === 'BYTES' ? ' (pictures as BYTES need an image_input section in the model config)' : ''}`,
      );
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d >= 0))
      throw errors.invalidArg(
        `input "${spec.name}" of model "${m}" has an invalid shape ${preview(t.shape)}: ` +
          'dimensions must be integers >= 0',
      );
    const want = table.maxBatchSize > 0 ? [-1, ...spec.dims] : spec.dims;
    const fits = t.shape.length === want.length && want.every((d, i) => d === -1 || d === t.shape[i]);
    if (!fits) {
      const shown = table.maxBatchSize > 0 ? `[-1 (batch), ${spec.dims.join(', ')}]` : fmt(spec.dims);
      throw errors.invalidArg(`input "${spec.name}" of model "${m}" has shape ${fmt(t.shape)}, expected ${shown}`);
    }
    // ONNX Runtime fails on an empty tensor where the model lets a dimension vary (a 500 with its
    // own text); a dimension the model fixes at 0 is the model's business.
    const empty = want.findIndex((d, i) => d === -1 && t.shape[i] === 0);
    if (empty >= 0 && !(table.maxBatchSize > 0 && empty === 0))
      throw errors.invalidArg(
        `input "${spec.name}" of model "${m}" has shape ${fmt(t.shape)}: ` +
          `dimension ${empty} is 0, and the model needs at least 1 there`,
      );
    if (table.maxBatchSize > 0) {
      const b = t.shape[0];
      if (b < 1 || b > table.maxBatchSize)
        throw errors.invalidArg(
          `input "${spec.name}" of model "${m}" has batch size ${b}, ` +
            `expected 1 to ${table.maxBatchSize} (max_batch_size)`,
        );
      if (batch !== -1 && b !== batch)
        throw errors.invalidArg(
          `input "${spec.name}" of model "${m}" has batch size ${b}, but another input has ${batch}`,
        );
      batch = b;
    }
    if (!dataMatches(t.datatype, t.data))
      throw errors.invalidArg(
        `input "${spec.name}" of model "${m}": data does not hold ${t.datatype} values ` +
          `(got ${t.data?.constructor?.name ?? typeof t.data})`,
      );
    const n = elementCount(t.shape);
    if (t.data.length !== n)
      throw errors.invalidArg(
        `input "${spec.name}" of model "${m}" has ${t.data.length} elements, but shape ${fmt(t.shape)} needs ${n}`,
      );
  }
  for (const o of outputs ?? []) {
    if (!table.outputs.has(o))
      throw errors.invalidArg(`model "${m}" has no output "${o}" (outputs: ${[...table.outputs].join(', ')})`);
  }
  return batch === -1 ? 1 : batch;
}
