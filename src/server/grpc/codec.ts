/**
 * gRPC messages ↔ the protocol-neutral request and reply: typed `contents` or `raw_input_contents`
 * in, `raw_output_contents` out (as Triton answers). Same checks as HTTP, same messages.
 */
import { errors } from '../../errors.js';
import type { TensorMap } from '../../tensor.js';
import { outputDefaults, outputRequest, parameters, timeout } from '../oip/decode.js';
import type { InferReply } from '../oip/infer.js';
import { checkDataType, checkShape, tensorFromRaw, tensorFromValues, tensorToRaw } from '../oip/tensor-wire.js';
import type { DecodedRequest, Parameters } from '../oip/types.js';
import type { BodyPool } from '../oip/body-pool.js';

export interface GrpcParam {
  parameter_choice?: string;
  [k: string]: unknown;
}

interface GrpcContents {
  [field: string]: unknown[];
}

interface GrpcInput {
  name: string;
  datatype: string;
  shape: string[];
  parameters: Record<string, GrpcParam>;
  contents: GrpcContents | null;
}

export interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, GrpcParam>;
  inputs: GrpcInput[];
  outputs: { name: string; parameters: Record<string, GrpcParam> }[];
  raw_input_contents: Buffer[];
}

const CONTENTS_FIELD: Record<string, string> = {
  BOOL: 'bool_contents', INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents', INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', UINT64: 'uint64_contents',
  FP32: 'fp32_contents', FP64: 'fp64_contents', BYTES: 'bytes_contents', FP16: 'fp16 (none: use raw_input_contents)',
};

/** InferParameter map → plain values (int64 strings become numbers). */
export function plainParameters(map: Record<string, GrpcParam> | undefined): Parameters {
  const out: Parameters = {};
  for (const [k, p] of Object.entries(map ?? {})) {
    const choice = p.parameter_choice;
    if (!choice) continue;
    const v = p[choice];
    out[k] = choice === 'int64_param' || choice === 'uint64_param' ? Number(v) : Buffer.isBuffer(v) ? v.toString('utf8') : (v as string | number | boolean);
  }
  return out;
}

export function decodeGrpcInfer(msg: GrpcInferRequest): DecodedRequest {
  const params = parameters(plainParameters(msg.parameters), 'request parameters');
  const raw = msg.raw_input_contents ?? [];
  if (!msg.inputs?.length) throw errors.invalidArg('"inputs" must hold at least one tensor');
  if (raw.length > 0 && raw.length !== msg.inputs.length)
    throw errors.invalidArg(`raw_input_contents has ${raw.length} entries, but the request has ${msg.inputs.length} inputs (one entry per input, in order)`);
  const inputs: TensorMap = {};
  msg.inputs.forEach((t, i) => {
    const what = `input "${t.name}"`;
    if (Object.hasOwn(inputs, t.name)) throw errors.invalidArg(`${what} appears twice in the request`);
    const dt = checkDataType(t.datatype, what);
    const shape = checkShape(t.shape.map(Number), what);
    if (raw.length > 0) {
      const field = CONTENTS_FIELD[dt];
      if (t.contents && (t.contents[field]?.length ?? 0) > 0) throw errors.invalidArg(`${what} has both contents and raw_input_contents; send one`);
      inputs[t.name] = tensorFromRaw(dt, shape, raw[i], what);
    } else {
      const field = CONTENTS_FIELD[dt];
      const values = t.contents?.[field];
      if (dt === 'FP16' || !values) throw errors.invalidArg(`${what}: ${dt} data must be in contents.${field} or raw_input_contents`);
      inputs[t.name] = tensorFromValues(dt, shape, values, what);
    }
  });
  const defaults = outputDefaults(params);
  const outputs = msg.outputs?.length
    ? msg.outputs.map((o) => outputRequest(o.name, parameters(plainParameters(o.parameters), `output "${o.name}" parameters`), defaults))
    : undefined;
  return { ...(msg.id ? { id: msg.id } : {}), inputs, outputs, ...defaults, ...timeout(params) };
}

/**
 * Wraps ModelInfer's request deserializer (protobufjs, whose bytes fields are views into grpc-js's
 * message buffer): each raw_input_contents entry is moved into a pooled buffer of its own, which
 * starts aligned. That one copy replaces two costs: the copy tensorFromRaw would make of an
 * unaligned view (the contents start wherever the protobuf fields put them, +5 for gRPC's frame),
 * and a fresh message buffer living through the queue wait (see body-pool.ts). The handler gives
 * the buffers back with releaseRawInputs when the call has ended.
 */
export function pooledRawInputs(deserialize: (b: Buffer) => GrpcInferRequest, pool: BodyPool): (b: Buffer) => GrpcInferRequest {
  return (buf) => {
    const msg = deserialize(buf);
    msg.raw_input_contents = (msg.raw_input_contents ?? []).map((raw) => {
      const own = pool.take(raw.length);
      raw.copy(own);
      return own;
    });
    return msg;
  };
}

export function releaseRawInputs(msg: GrpcInferRequest, pool: BodyPool): void {
  for (const b of msg.raw_input_contents ?? []) pool.give(b);
}

export function encodeGrpcInfer(reply: InferReply) {
  return {
    model_name: reply.model_name,
    model_version: reply.model_version,
    id: reply.id ?? '',
    outputs: reply.outputs.map((o) => ({ name: o.name, datatype: o.tensor.datatype, shape: o.tensor.shape })),
    raw_output_contents: reply.outputs.map((o) => tensorToRaw(o.tensor)),
  };
}
