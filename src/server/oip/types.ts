/**
 * Open Inference Protocol (KServe v2) request and response bodies as they travel over HTTP/JSON,
 * plus the protocol-neutral request that HTTP and gRPC both decode into.
 */
import type { DataType, TensorMap } from '../../tensor.js';
import type { SharedMemoryRef } from './shared-memory.js';

/** Request, tensor and output parameters: the protocol allows strings, numbers and booleans. */
export type Parameters = Record<string, string | number | boolean>;

export interface JsonInputTensor {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Parameters;
  /** Flat or nested, row-major; absent when the tensor is in the binary data. */
  data?: unknown[];
}

export interface JsonRequestedOutput {
  name: string;
  parameters?: Parameters;
}

export interface JsonInferRequest {
  id?: string;
  parameters?: Parameters;
  inputs: JsonInputTensor[];
  outputs?: JsonRequestedOutput[];
}

export interface JsonOutputTensor {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Parameters;
  data?: unknown[];
}

export interface JsonInferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  parameters?: Parameters;
  outputs: JsonOutputTensor[];
}

/** What the client wants back for one output. */
export interface OutputRequest {
  name: string;
  /** Return as binary tensor data (HTTP binary extension; gRPC raw contents always). */
  binary: boolean;
  /** Top-k classification instead of the raw tensor; 0 = off. */
  classification: number;
  /** Written into this system shared-memory region instead of the response (shared-memory.ts). */
  sharedMemory?: SharedMemoryRef;
}

/** An input whose bytes the server reads from a system shared-memory region. */
export interface SharedMemoryInput {
  name: string;
  datatype: DataType;
  shape: number[];
  ref: SharedMemoryRef;
}

/** A decoded inference request, the same whichever transport carried it. */
export interface DecodedRequest {
  id?: string;
  inputs: TensorMap;
  /** Inputs still to be read from shared memory (runInference reads them); absent when none. */
  sharedInputs?: SharedMemoryInput[];
  /** Outputs asked for; undefined = all, each with the request-level defaults. */
  outputs?: OutputRequest[];
  /** Request-level defaults for outputs not listed. */
  binaryOutputs: boolean;
  classification: number;
  /** Deadline from the `timeout` parameter (microseconds on the wire), in ms. */
  timeoutMs?: number;
}
