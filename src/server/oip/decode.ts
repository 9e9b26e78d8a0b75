/**
 * Decodes an HTTP/JSON inference request (with its optional binary part) into the protocol-neutral
 * DecodedRequest. Also holds the parameter rules both transports share: `binary_data_output`,
 * `binary_data`, `classification` and `timeout`.
 */
import { errors } from '../../errors.js';
import { preview } from '../../preview.js';
import type { TensorMap } from '../../tensor.js';
import { BinaryReader, splitBody } from '../../protocol/binary-data.js';
import { checkDataType, checkShape, flatValues, tensorFromRaw, tensorFromValues } from '../../protocol/tensor-wire.js';
import type { DecodedRequest, OutputRequest, SharedMemoryInput } from './types.js';
import type { Parameters } from '../../protocol/types.js';
import { sharedMemoryRef } from './shm-registry.js';
import { checkCount, checkName, REQUEST_LIMITS, uniqueNames } from '../../protocol/limits.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses the body of POST .../infer; `headerLength` is the Inference-Header-Content-Length header. */
export function decodeHttpInfer(body: Buffer, headerLength: string | string[] | undefined): DecodedRequest {
  const { json, binary } = splitBody(body, headerLength);
  if (json.length === 0) throw errors.invalidArg('the request body is empty: expected a JSON object with "inputs"');
  let req: unknown;
  try {
    req = JSON.parse(json.toString('utf8'));
  } catch (err) {
    const hint =
      headerLength === undefined && body.includes(0)
        ? ' (binary data without an Inference-Header-Content-Length header?)'
        : '';
    throw errors.invalidArg(`the request body is not valid JSON: ${(err as Error).message}${hint}`);
  }
  if (!isObj(req)) throw errors.invalidArg(`the request body must be a JSON object, got ${preview(req)}`);
  if (req.id !== undefined && typeof req.id !== 'string')
    throw errors.invalidArg(`"id" must be a string, got ${preview(req.id)}`);
  const params = parameters(req.parameters, 'request parameters');
  if (!Array.isArray(req.inputs) || req.inputs.length === 0)
    throw errors.invalidArg(`"inputs" must be a non-empty list of tensors, got ${preview(req.inputs)}`);
  checkCount(req.inputs.length, REQUEST_LIMITS.tensors, '"inputs"');
  if (Array.isArray(req.outputs)) checkCount(req.outputs.length, REQUEST_LIMITS.tensors, '"outputs"');
  const once = uniqueNames('input');

  const reader = new BinaryReader(binary);
  const inputs: TensorMap = Object.create(null); // no prototype: an input may be named "__proto__"
  const sharedInputs: SharedMemoryInput[] = [];
  req.inputs.forEach((t: unknown, i: number) => {
    if (!isObj(t)) throw errors.invalidArg(`inputs[${i}] must be an object with a string "name"`);
    const name = checkName(t.name, `inputs[${i}]`);
    const what = `input "${name}"`;
    once(name);
    const dt = checkDataType(t.datatype, what);
    const shape = checkShape(t.shape, what);
    const p = parameters(t.parameters, `${what} parameters`);
    const ref = sharedMemoryRef(p, what);
    if (ref) {
      if (t.data !== undefined || p.binary_data_size !== undefined)
        throw errors.invalidArg(
          `${what} is in shared memory and also has ${t.data !== undefined ? '"data"' : 'binary_data_size'}; send one`,
        );
      sharedInputs.push({ name, datatype: dt, shape, ref });
    } else if (p.binary_data_size !== undefined) {
      if (t.data !== undefined) throw errors.invalidArg(`${what} has both "data" and binary_data_size; send one`);
      inputs[name] = tensorFromRaw(dt, shape, reader.take(p.binary_data_size, what), what);
    } else {
      if (!Array.isArray(t.data))
        throw errors.invalidArg(`${what} needs "data" (a list) or parameters.binary_data_size`);
      inputs[name] = tensorFromValues(dt, shape, flatValues(t.data), what);
    }
  });
  reader.finish();

  let outputs: OutputRequest[] | undefined;
  const defaults = outputDefaults(params);
  if (req.outputs !== undefined) {
    if (!Array.isArray(req.outputs)) throw errors.invalidArg(`"outputs" must be a list, got ${preview(req.outputs)}`);
    outputs = req.outputs.map((o: unknown, i: number) => {
      if (!isObj(o)) throw errors.invalidArg(`outputs[${i}] must be an object with a string "name"`);
      const name = checkName(o.name, `outputs[${i}]`);
      return outputRequest(name, parameters(o.parameters, `output "${name}" parameters`), defaults);
    });
  }
  return {
    id: req.id,
    inputs,
    ...(sharedInputs.length ? { sharedInputs } : {}),
    outputs,
    ...defaults,
    ...timeout(params),
  };
}

/** Parameters must be an object of strings, numbers and booleans. */
export function parameters(p: unknown, what: string): Parameters {
  if (p === undefined) return {};
  if (!isObj(p)) throw errors.invalidArg(`${what} must be an object, got ${preview(p)}`);
  const entries = Object.entries(p);
  checkCount(entries.length, REQUEST_LIMITS.parameters, what);
  for (const [k, v] of entries)
    if (!['string', 'number', 'boolean'].includes(typeof v))
      throw errors.invalidArg(`${what}: "${k}" must be a string, number or boolean, got ${preview(v)}`);
  return p as Parameters;
}

export function outputDefaults(params: Parameters): { binaryOutputs: boolean; classification: number } {
  return {
    binaryOutputs: flag(params.binary_data_output, 'request parameter binary_data_output') ?? false,
    classification: classCount(params.classification, 'request parameter classification') ?? 0,
  };
}

export function outputRequest(
  name: string,
  p: Parameters,
  defaults: { binaryOutputs: boolean; classification: number },
): OutputRequest {
  return {
    name,
    binary: flag(p.binary_data, `output "${name}" parameter binary_data`) ?? defaults.binaryOutputs,
    classification:
      classCount(p.classification, `output "${name}" parameter classification`) ?? defaults.classification,
    sharedMemory: sharedMemoryRef(p, `output "${name}"`),
  };
}

/** Triton's `timeout` request parameter is in microseconds. */
export function timeout(params: Parameters): { timeoutMs?: number } {
  const t = params.timeout;
  if (t === undefined) return {};
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0)
    throw errors.invalidArg(`request parameter timeout must be microseconds (an integer >= 0), got ${preview(t)}`);
  return { timeoutMs: t / 1000 };
}

function flag(v: unknown, what: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw errors.invalidArg(`${what} must be true or false, got ${preview(v)}`);
  return v;
}

function classCount(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw errors.invalidArg(`${what} must be an integer >= 0 (top k), got ${preview(v)}`);
  return v;
}
