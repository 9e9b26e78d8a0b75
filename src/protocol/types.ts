/**
 * Open Inference Protocol (KServe v2) request and response bodies as they travel over HTTP/JSON:
 * what a client writes and a server reads, so both sides import them from here.
 */

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
