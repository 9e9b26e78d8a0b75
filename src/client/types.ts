/** The client's public types: what an inference call takes and returns, whatever the transport. */
import type { TensorMap } from '../tensor.js';

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
}

export interface ClientInferResult {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: TensorMap;
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
  close(): void;
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}
