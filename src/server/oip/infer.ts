/**
 * The one inference path both transports take: a decoded request → engine.infer → the outputs the
 * client asked for (classification applied), ready for a transport to encode.
 */
import { errors } from '../../errors.js';
import type { Engine } from '../../engine/index.js';
import type { Tensor } from '../../tensor.js';
import { classify } from './classification.js';
import type { DecodedRequest } from './types.js';

export interface EncodedOutput {
  name: string;
  tensor: Tensor;
  binary: boolean;
}

export interface InferReply {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: EncodedOutput[];
}

/** Path or message version → number; empty means "the newest loaded". */
export function parseVersion(version: string | undefined): number | undefined {
  if (version === undefined || version === '') return undefined;
  if (!/^[1-9]\d*$/.test(version)) throw errors.invalidArg(`model version must be a positive integer, got ${JSON.stringify(version)}`);
  return Number(version);
}

export async function runInference(engine: Engine, name: string, version: string | undefined, req: DecodedRequest, signal?: AbortSignal): Promise<InferReply> {
  const v = parseVersion(version);
  const model = engine.model(name, v);
  const wanted = req.outputs;
  if (wanted) {
    const seen = new Set<string>();
    for (const o of wanted) {
      if (seen.has(o.name)) throw errors.invalidArg(`output "${o.name}" is asked for twice`);
      seen.add(o.name);
    }
  }
  const result = await engine.infer(name, req.inputs, {
    version: v, id: req.id, outputs: wanted?.map((o) => o.name), timeoutMs: req.timeoutMs, signal,
  });
  const asked = wanted ?? Object.keys(result.outputs).map((n) => ({ name: n, binary: req.binaryOutputs, classification: req.classification }));
  const outputs = asked.map((o): EncodedOutput => {
    const t = result.outputs[o.name];
    if (!t) throw errors.internal(`model "${name}" returned no output "${o.name}"`);
    const tensor = o.classification > 0 ? classify(t, o.classification, model.labels[o.name], model.config.max_batch_size > 0, `output "${o.name}"`) : t;
    return { name: o.name, tensor, binary: o.binary };
  });
  return { model_name: result.model, model_version: String(result.version), ...(result.id !== undefined ? { id: result.id } : {}), outputs };
}
