/**
 * gRPC messages ↔ the protocol-neutral request and reply: typed `contents` or `raw_input_contents`
 * in, `raw_output_contents` out (as Triton answers). Same checks as HTTP, same messages.
 */
import { errors } from '../../errors.js';
import type { TensorMap } from '../../tensor.js';
import { outputDefaults, outputRequest, parameters, timeout } from '../oip/decode.js';
import { sharedMemoryParameters, type InferReply } from '../oip/infer.js';
import { sharedMemoryRef } from '../oip/shm-registry.js';
import { checkDataType, checkShape, tensorFromRaw, tensorFromValues, tensorToRaw } from '../../protocol/tensor-wire.js';
import type { DecodedRequest, SharedMemoryInput } from '../oip/types.js';
import type { BodyPool } from '../../protocol/body-pool.js';
import { checkCount, checkName, REQUEST_LIMITS, uniqueNames } from '../../protocol/limits.js';
import { grpcParameters, plainParameters, type GrpcParam } from '../../protocol/grpc-parameters.js';

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
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
  FP16: 'fp16 (none: use raw_input_contents)',
};

export function decodeGrpcInfer(msg: GrpcInferRequest): DecodedRequest {
  const params = parameters(plainParameters(msg.parameters), 'request parameters');
  const raw = msg.raw_input_contents ?? [];
  if (!msg.inputs?.length) throw errors.invalidArg('"inputs" must hold at least one tensor');
  checkCount(msg.inputs.length, REQUEST_LIMITS.tensors, '"inputs"');
  checkCount(msg.outputs?.length ?? 0, REQUEST_LIMITS.tensors, '"outputs"');
  for (const [i, t] of msg.inputs.entries()) checkName(t.name, `inputs[${i}]`);
  for (const [i, o] of (msg.outputs ?? []).entries()) checkName(o.name, `outputs[${i}]`);
  const refs = msg.inputs.map((t) =>
    sharedMemoryRef(parameters(plainParameters(t.parameters), `input "${t.name}" parameters`), `input "${t.name}"`),
  );
  // raw_input_contents holds one entry per input that is not in shared memory, in order.
  const sent = refs.filter((r) => !r).length;
  if (raw.length > 0 && raw.length !== sent)
    throw errors.invalidArg(
      `raw_input_contents has ${raw.length} entries, but the request has ${sent} inputs outside shared memory ` +
        '(one entry per such input, in order)',
    );
  const inputs: TensorMap = Object.create(null); // no prototype: an input may be named "__proto__"
  const sharedInputs: SharedMemoryInput[] = [];
  const once = uniqueNames('input');
  let next = 0;
  msg.inputs.forEach((t, i) => {
    const what = `input "${t.name}"`;
    once(t.name);
    const dt = checkDataType(t.datatype, what);
    const shape = checkShape(t.shape.length > REQUEST_LIMITS.rank ? t.shape : t.shape.map(Number), what);
    const field = CONTENTS_FIELD[dt];
    const hasContents = (t.contents?.[field]?.length ?? 0) > 0;
    const ref = refs[i];
    if (ref) {
      if (hasContents) throw errors.invalidArg(`${what} is in shared memory and also has contents; send one`);
      sharedInputs.push({ name: t.name, datatype: dt, shape, ref });
    } else if (raw.length > 0) {
      if (hasContents) throw errors.invalidArg(`${what} has both contents and raw_input_contents; send one`);
      inputs[t.name] = tensorFromRaw(dt, shape, raw[next++], what);
    } else {
      const values = t.contents?.[field];
      if (dt === 'FP16' || !values)
        throw errors.invalidArg(`${what}: ${dt} data must be in contents.${field} or raw_input_contents`);
      inputs[t.name] = tensorFromValues(dt, shape, values, what);
    }
  });
  const defaults = outputDefaults(params);
  const outputs = msg.outputs?.length
    ? msg.outputs.map((o) =>
        outputRequest(o.name, parameters(plainParameters(o.parameters), `output "${o.name}" parameters`), defaults),
      )
    : undefined;
  return {
    ...(msg.id ? { id: msg.id } : {}),
    inputs,
    ...(sharedInputs.length ? { sharedInputs } : {}),
    outputs,
    ...defaults,
    ...timeout(params),
  };
}

/**
 * Wraps ModelInfer's request deserializer (protobufjs, whose bytes fields are views into grpc-js's
 * message buffer): each raw_input_contents entry is moved into a pooled buffer of its own, which
 * starts aligned. That one copy replaces two costs: the copy tensorFromRaw would make of an
 * unaligned view (the contents start wherever the protobuf fields put them, +5 for gRPC's frame),
 * and a fresh message buffer living through the queue wait (see body-pool.ts). The handler gives
 * the buffers back with releaseRawInputs when the call has ended.
 */
export function pooledRawInputs(
  deserialize: (b: Buffer) => GrpcInferRequest,
  pool: BodyPool,
): (b: Buffer) => GrpcInferRequest {
  return (buf) => {
    const msg = deserialize(buf);
    msg.raw_input_contents = (msg.raw_input_contents ?? []).map((raw) => {
      if (raw.length === 0) return EMPTY;
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
    outputs: reply.outputs.map((o) => ({
      name: o.name,
      datatype: o.tensor.datatype,
      shape: o.tensor.shape,
      ...(o.sharedMemory ? { parameters: grpcParameters(sharedMemoryParameters(o)) } : {}),
    })),
    // One entry per output, in order; an output in shared memory has an empty one.
    raw_output_contents: reply.outputs.map((o) => (o.sharedMemory ? EMPTY : tensorToRaw(o.tensor))),
  };
}

const EMPTY = Buffer.alloc(0);
