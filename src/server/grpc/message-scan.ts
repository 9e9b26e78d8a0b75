/**
 * Checks on a gRPC request message before protobufjs decodes it, and the refusal a handler
 * answers when a message cannot be taken.
 *
 * protobufjs builds every repeated entry as an object of its own: a ModelInfer message of 30
 * million empty raw_input_contents entries (57 MB, or 57 KB with gzip) grew the server to 4.8 GB
 * and killed it with "JavaScript heap out of memory" before any count was checked. The scan walks
 * the wire format (tags and lengths only, nothing allocated) and counts what would become objects:
 * tensors, parameters, shape dimensions and bytes_contents entries, against the same limits as
 * HTTP (oip/limits.ts). A message that fails the scan, or that protobufjs cannot decode, becomes a
 * RefusedMessage, which the handler answers with INVALID_ARGUMENT naming the problem; a
 * deserializer that throws would make grpc-js answer INTERNAL.
 */
import { errors, isTenancyError } from '../../errors.js';
import { checkCount, REQUEST_LIMITS } from '../../protocol/limits.js';

const REFUSED = Symbol('refused gRPC message');

/** What a guarded deserializer returns for a message it refused. */
export interface RefusedMessage {
  [REFUSED]: string;
}

/** The reason a message was refused, or null for a decoded one. */
export function refusedReason(msg: unknown): string | null {
  return typeof msg === 'object' && msg !== null && REFUSED in msg ? (msg as RefusedMessage)[REFUSED] : null;
}

/** Wraps a method's deserializer: `check` runs on the bytes first; any failure becomes a RefusedMessage. */
export function guarded<T>(
  deserialize: (b: Buffer) => T,
  check?: (b: Buffer) => void,
): (b: Buffer) => T | RefusedMessage {
  return (b) => {
    try {
      check?.(b);
      return deserialize(b);
    } catch (err) {
      const why = isTenancyError(err)
        ? err.message
        : `the request message is not valid protobuf for this method: ${(err as Error).message}`;
      return { [REFUSED]: why };
    }
  };
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const FIXED32 = 5;

/** Calls `field` for each field of the message in buf[start, end): its number, wire type and payload bounds. */
function walk(
  buf: Buffer,
  start: number,
  end: number,
  field: (no: number, wireType: number, from: number, to: number) => void,
): void {
  let pos = start;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw errors.invalidArg('the request message is truncated inside a varint');
      const b = buf[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw errors.invalidArg('the request message has a varint longer than 10 bytes');
  };
  while (pos < end) {
    const tag = varint();
    const no = Math.floor(tag / 8);
    const wireType = tag % 8;
    let from = pos;
    if (wireType === VARINT) varint();
    else if (wireType === FIXED64) pos += 8;
    else if (wireType === FIXED32) pos += 4;
    else if (wireType === LENGTH) {
      const length = varint();
      from = pos;
      pos += length;
    } else
      throw errors.invalidArg(
        `the request message has field ${no} with wire type ${wireType}, which protobuf does not have`,
      );
    if (pos > end) throw errors.invalidArg(`the request message is truncated inside field ${no}`);
    field(no, wireType, from, pos);
  }
}

/** Values in a repeated scalar field: one per unpacked entry, or every varint of a packed one. */
function scalarCount(buf: Buffer, wireType: number, from: number, to: number): number {
  if (wireType !== LENGTH) return 1;
  let n = 0;
  for (let p = from; p < to; p++) if (buf[p] < 0x80) n++;
  return n;
}

/**
 * ModelInferRequest (grpc_service.proto): 4 parameters, 5 inputs, 6 outputs, 7 raw_input_contents;
 * InferInputTensor: 3 shape, 4 parameters, 5 contents; InferRequestedOutputTensor: 2 parameters;
 * InferTensorContents: 8 bytes_contents.
 */
export function scanInferRequest(buf: Buffer): void {
  const counts = { params: 0, inputs: 0, outputs: 0, raw: 0, bytes: 0 };
  walk(buf, 0, buf.length, (no, wt, from, to) => {
    if (no === 4) counts.params++;
    else if (no === 5 && wt === LENGTH) {
      counts.inputs++;
      let rank = 0;
      let params = 0;
      walk(buf, from, to, (n2, w2, f2, t2) => {
        if (n2 === 3) rank += scalarCount(buf, w2, f2, t2);
        else if (n2 === 4) params++;
        else if (n2 === 5 && w2 === LENGTH)
          walk(buf, f2, t2, (n3) => {
            if (n3 === 8) counts.bytes++;
          });
      });
      if (rank > REQUEST_LIMITS.rank)
        throw errors.invalidArg(
          `inputs[${counts.inputs - 1}]: shape has ${rank} dimensions, ` +
            `more than this server accepts (at most ${REQUEST_LIMITS.rank})`,
        );
      checkCount(params, REQUEST_LIMITS.parameters, `inputs[${counts.inputs - 1}] parameters`);
    } else if (no === 6 && wt === LENGTH) {
      counts.outputs++;
      let params = 0;
      walk(buf, from, to, (n2) => {
        if (n2 === 2) params++;
      });
      checkCount(params, REQUEST_LIMITS.parameters, `outputs[${counts.outputs - 1}] parameters`);
    } else if (no === 7) counts.raw++;
  });
  checkCount(counts.params, REQUEST_LIMITS.parameters, 'request parameters');
  checkCount(counts.inputs, REQUEST_LIMITS.tensors, '"inputs"');
  checkCount(counts.outputs, REQUEST_LIMITS.tensors, '"outputs"');
  checkCount(counts.raw, REQUEST_LIMITS.tensors, 'raw_input_contents');
  checkCount(counts.bytes, REQUEST_LIMITS.bytesElements, 'bytes_contents entries');
}
