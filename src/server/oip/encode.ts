/**
 * Encodes an inference reply for HTTP: plain JSON, or (when any output is binary) the JSON header
 * followed by the binary outputs, with its length for the Inference-Header-Content-Length header.
 */
import { sharedMemoryParameters, type InferReply } from './infer.js';
import { tensorToRaw, tensorToValues } from '../../protocol/tensor-wire.js';
import type { JsonInferResponse, JsonOutputTensor } from '../../protocol/types.js';

export interface HttpInferBody {
  body: string | Buffer;
  /** Set when the body carries binary data: the JSON header's length in bytes. */
  headerLength?: number;
}

export function encodeHttpInfer(reply: InferReply): HttpInferBody {
  const chunks: Buffer[] = [];
  const outputs = reply.outputs.map((o): JsonOutputTensor => {
    const base = { name: o.name, datatype: o.tensor.datatype, shape: o.tensor.shape };
    // In shared memory: the response says where, and carries no data.
    if (o.sharedMemory) return { ...base, parameters: sharedMemoryParameters(o) };
    if (!o.binary) return { ...base, data: tensorToValues(o.tensor) };
    const raw = tensorToRaw(o.tensor);
    chunks.push(raw);
    return { ...base, parameters: { binary_data_size: raw.length } };
  });
  const json: JsonInferResponse = {
    model_name: reply.model_name,
    model_version: reply.model_version,
    ...(reply.id !== undefined ? { id: reply.id } : {}),
    outputs,
  };
  const text = JSON.stringify(json);
  if (chunks.length === 0) return { body: text };
  const header = Buffer.from(text, 'utf8');
  return { body: Buffer.concat([header, ...chunks]), headerLength: header.length };
}
