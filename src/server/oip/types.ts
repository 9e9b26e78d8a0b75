/**
 * The protocol-neutral request that HTTP and gRPC both decode into, and where a tensor's bytes
 * sit in system shared memory. The JSON bodies themselves are protocol/types.ts.
 */
import type { DataType, TensorMap } from '../../tensor.js';

/** Where a tensor's bytes sit: a registered region, an offset into it, a length. */
export interface SharedMemoryRef {
  region: string;
  offset: number;
  byteSize: number;
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
