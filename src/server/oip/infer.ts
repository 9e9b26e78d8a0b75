/**
 * The one inference path both transports take: a decoded request → engine.infer → the outputs the
 * client asked for (classification applied), ready for a transport to encode.
 */
import { errors } from '../../errors.js';
import { preview } from '../../preview.js';
import type { Engine } from '../../engine/index.js';
import type { Tensor, TensorMap } from '../../tensor.js';
import { classify } from './classification.js';
import { sharedMemoryOff, type SystemSharedMemory } from './shm-registry.js';
import { tensorFromRaw, tensorToRaw } from '../../protocol/tensor-wire.js';
import type { DecodedRequest, SharedMemoryInput, SharedMemoryRef } from './types.js';
import { elementBytes, elementCount } from '../../tensor.js';
import type { ModelView } from '../../engine/index.js';
import { uniqueNames } from '../../protocol/limits.js';

export interface EncodedOutput {
  name: string;
  tensor: Tensor;
  binary: boolean;
  /** Set when the output went into shared memory: where, and how many bytes were written. */
  sharedMemory?: SharedMemoryRef & { written: number };
}

export interface InferOptions {
  /** Aborting it cancels the request (the client went away). */
  signal?: AbortSignal;
  /** The server's shared-memory registry; null or absent when --allow-client-shm is off. */
  shm?: SystemSharedMemory | null;
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
  if (!/^[1-9]\d*$/.test(version))
    throw errors.invalidArg(`model version must be a positive integer, got ${preview(version)}`);
  return Number(version);
}

export async function runInference(
  engine: Engine,
  name: string,
  version: string | undefined,
  req: DecodedRequest,
  { signal, shm }: InferOptions = {},
): Promise<InferReply> {
  const v = parseVersion(version);
  const model = engine.model(name, v);
  const wanted = req.outputs;
  if (wanted) {
    const once = uniqueNames('output');
    for (const o of wanted) once(o.name);
  }
  if (!shm && (req.sharedInputs?.length || wanted?.some((o) => o.sharedMemory))) throw sharedMemoryOff();
  if (req.sharedInputs?.length) checkSharedInputs(model, req.sharedInputs, shm!);
  const read: Buffer[] = [];
  try {
    const inputs: TensorMap = req.sharedInputs?.length ? { ...req.inputs } : req.inputs;
    for (const s of req.sharedInputs ?? []) {
      const what = `input "${s.name}"`;
      const bytes = shm!.read(s.ref, what);
      read.push(bytes);
      inputs[s.name] = tensorFromRaw(s.datatype, s.shape, bytes, what);
    }
    const result = await engine.infer(name, inputs, {
      version: v,
      id: req.id,
      outputs: wanted?.map((o) => o.name),
      timeoutMs: req.timeoutMs,
      signal,
    });
    const asked =
      wanted ??
      Object.keys(result.outputs).map((n) => ({
        name: n,
        binary: req.binaryOutputs,
        classification: req.classification,
        sharedMemory: undefined,
      }));
    const outputs = asked.map((o): EncodedOutput => {
      const t = result.outputs[o.name];
      const what = `output "${o.name}"`;
      if (!t) throw errors.internal(`model "${name}" returned no output "${o.name}"`);
      const tensor =
        o.classification > 0
          ? classify(t, o.classification, model.labels[o.name], model.config.max_batch_size > 0, what)
          : t;
      if (!o.sharedMemory) return { name: o.name, tensor, binary: o.binary };
      const raw = tensorToRaw(tensor);
      shm!.write(o.sharedMemory, raw, what);
      return { name: o.name, tensor, binary: o.binary, sharedMemory: { ...o.sharedMemory, written: raw.byteLength } };
    });
    return {
      model_name: result.model,
      model_version: String(result.version),
      ...(result.id !== undefined ? { id: result.id } : {}),
      outputs,
    };
  } finally {
    // The scheduler copied the inputs for the instance: these bytes are no longer read.
    for (const b of read) shm!.release(b);
  }
}

/**
 * Before any shared-memory input is read: it must be one the model takes, its byte size must be
 * what its shape and datatype need (BYTES: within the BYTES limit), and all of them together within
 * the server's read limit. Reading first (into a buffer of the declared size) let a 417-byte
 * request make the server read gigabytes before it was told the input was unknown.
 */
function checkSharedInputs(model: ModelView, inputs: readonly SharedMemoryInput[], shm: SystemSharedMemory): void {
  let total = 0;
  for (const s of inputs) {
    const what = `input "${s.name}"`;
    if (!model.table.inputs.has(s.name))
      throw errors.invalidArg(
        `unexpected input "${s.name}" for model "${model.name}" ` +
          `(expected: ${[...model.table.inputs.keys()].join(', ')})`,
      );
    shm.check(s.ref, what);
    const n = elementCount(s.shape);
    if (s.datatype !== 'BYTES' && s.ref.byteSize !== n * elementBytes(s.datatype))
      throw errors.invalidArg(
        `${what}: shared_memory_byte_size is ${s.ref.byteSize} bytes, ` +
          `but shape [${s.shape.join(', ')}] of ${s.datatype} needs ${n * elementBytes(s.datatype)} bytes`,
      );
    total += s.ref.byteSize;
  }
  if (total > shm.maxReadBytes)
    throw errors.invalidArg(
      `the request's shared-memory inputs add up to ${total} bytes, ` +
        `more than this server reads for one request (${shm.maxReadBytes}, its body limit)`,
    );
}

/** The parameters of an output that went into shared memory, as the response carries them. */
export function sharedMemoryParameters(o: EncodedOutput): Record<string, string | number> {
  const s = o.sharedMemory!;
  return {
    shared_memory_region: s.region,
    shared_memory_byte_size: s.written,
    ...(s.offset ? { shared_memory_offset: s.offset } : {}),
  };
}
