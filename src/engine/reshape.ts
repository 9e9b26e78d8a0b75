/**
 * Triton's reshape: a tensor's config `dims` are what requests carry and answers hold, and
 * `reshape.shape` is what the model file takes and gives. The elements are the same, in the same
 * order, so only the shape changes, both ways; the batch dimension (max_batch_size > 0) stays in
 * front. A -1 takes what the element count leaves for it.
 */
import type { TensorMap } from '../tensor.js';
import type { ModelConfig, TensorConfig } from '../repository/index.js';

export interface Reshaper {
  /** Request tensors (config dims) to the shapes the model file takes. */
  toModel(inputs: TensorMap): TensorMap;
  /** The model's outputs to the config dims answers carry. */
  toClient(outputs: TensorMap): TensorMap;
}

/** The reshaper of a config, or null when no tensor has a reshape. */
export function reshaperFor(config: Pick<ModelConfig, 'input' | 'output' | 'max_batch_size'>): Reshaper | null {
  const ins = shapes(config.input, (t) => t.reshape!.shape);
  const outs = shapes(config.output, (t) => t.dims);
  if (ins.size === 0 && outs.size === 0) return null;
  const batched = config.max_batch_size > 0;
  return {
    toModel: (inputs) => apply(inputs, ins, batched),
    toClient: (outputs) => apply(outputs, outs, batched),
  };
}

/** The target shape of each tensor that has a reshape. */
function shapes(tensors: TensorConfig[], target: (t: TensorConfig) => number[]): Map<string, number[]> {
  return new Map(tensors.filter((t) => t.reshape).map((t) => [t.name, target(t)]));
}

function apply(tensors: TensorMap, targets: Map<string, number[]>, batched: boolean): TensorMap {
  let out: TensorMap | null = null;
  for (const [name, target] of targets) {
    const t = tensors[name];
    if (!t) continue;
    out ??= { ...tensors };
    const lead = batched ? [t.shape[0]] : [];
    out[name] = { ...t, shape: [...lead, ...resolve(target, count(t.shape) / Math.max(1, count(lead)))] };
  }
  return out ?? tensors;
}

const count = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** `shape` with its -1 (at most one) set so that it holds `elements`. */
function resolve(shape: number[], elements: number): number[] {
  const at = shape.indexOf(-1);
  if (at < 0) return shape;
  const known = count(shape.filter((d) => d !== -1));
  return shape.map((d, i) => (i === at ? (known > 0 ? elements / known : 0) : d));
}
