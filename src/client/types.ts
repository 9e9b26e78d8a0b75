/** The client's public types: what an inference call takes and returns, whatever the transport. */
import { textOf, type BytesElement, type Tensor, type TensorMap } from '../tensor.js';

export interface ClientInferOptions {
  /** Model version; the newest loaded one when omitted. */
  version?: number;
  /** Echoed back in the result. */
  id?: string;
  /** Outputs to return (all when omitted). */
  outputs?: string[];
  /** Top-k classification of every returned output instead of raw tensors; 0 or omitted = off. */
  classification?: number;
  /**
   * HTTP only: send inputs and receive outputs as binary tensor data instead of JSON lists. Default
   * true. With JSON, BYTES inputs holding bytes (pictures) are sent as base64 strings.
   */
  binary?: boolean;
  /** Server-side deadline covering queue and run, microseconds (the protocol's `timeout` parameter). */
  timeoutUs?: number;
  /**
   * System shared memory (server started with --allow-client-shm, regions registered first):
   * inputs the server reads from a region instead of the request (leave them out of `inputs`),
   * and outputs it writes into one instead of the response. With `outputs` given here, only
   * these and the ones named in `outputs` come back.
   */
  sharedMemory?: { inputs?: Record<string, SharedMemoryInput>; outputs?: Record<string, SharedMemoryPlace> };
  /**
   * HTTP only: send the request body compressed (Content-Encoding), as tritonclient's
   * request_compression_algorithm.
   */
  requestCompression?: 'gzip' | 'deflate';
  /** HTTP only: ask for the response compressed (Accept-Encoding); it is inflated here. */
  responseCompression?: 'gzip' | 'deflate';
}

export interface ClientInferResult {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: TensorMap;
  /**
   * Outputs the server wrote into shared memory: where, with datatype and shape (read them with
   * SharedMemoryRegion.readOutput).
   */
  sharedMemoryOutputs?: Record<string, SharedMemoryOutput>;
}

/** The outputs to ask for by name (undefined = all): `outputs` plus those to go into shared memory. */
export function requestedOutputs(o: ClientInferOptions): string[] | undefined {
  const shm = Object.keys(o.sharedMemory?.outputs ?? {});
  if (!o.outputs && shm.length === 0) return undefined;
  return [...new Set([...(o.outputs ?? []), ...shm])];
}

/** An error answered by the server: the HTTP status or gRPC code, and the server's message. */
export class ServerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ServerError';
  }
}

export interface InferenceClient {
  live(): Promise<boolean>;
  ready(): Promise<boolean>;
  modelReady(model: string, version?: number): Promise<boolean>;
  serverMetadata(): Promise<{ name: string; version: string; extensions: string[] }>;
  modelMetadata(model: string, version?: number): Promise<ModelMetadata>;
  infer(model: string, inputs: TensorMap, options?: ClientInferOptions): Promise<ClientInferResult>;
  /** Registers `byteSize` bytes of the shared-memory object `key` from `offset` as region `name`. */
  registerSystemSharedMemory(name: string, key: string, byteSize: number, offset?: number): Promise<void>;
  /** Unregisters one region, or every region without a name. */
  unregisterSystemSharedMemory(name?: string): Promise<void>;
  systemSharedMemoryStatus(name?: string): Promise<{ name: string; key: string; offset: number; byte_size: number }[]>;
  close(): void;
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}

/** A tensor as the clients return it: BYTES elements (classification results, text) as strings. */
export function bytesAsText(t: Tensor): Tensor {
  return t.datatype === 'BYTES' ? { ...t, data: (t.data as BytesElement[]).map(textOf) } : t;
}

/** Where a tensor sits in a registered region: its name, the length in bytes, and an offset (default 0). */
export interface SharedMemoryPlace {
  region: string;
  byteSize: number;
  offset?: number;
}

/** An input the server reads from a registered region. */
export interface SharedMemoryInput extends SharedMemoryPlace {
  datatype: string;
  shape: number[];
}

/** An output the server wrote into a region, as its response describes it. */
export interface SharedMemoryOutput extends SharedMemoryPlace {
  datatype: string;
  shape: number[];
}
