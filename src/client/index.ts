/** A small Open Inference Protocol client: HTTP (JSON or binary tensor data) and gRPC. */
export { HttpClient, type HttpClientOptions } from './http.js';
export { GrpcClient, GrpcInferStream, type GrpcClientOptions } from './grpc.js';
export { imageInputs, imageFileInputs } from './images.js';
export { SharedMemoryRegion } from './shm-region.js';
export type { SharedMemoryInput, SharedMemoryOutput, SharedMemoryPlace } from './types.js';
export {
  ServerError,
  type ClientInferOptions,
  type ClientInferResult,
  type InferenceClient,
  type ModelMetadata,
} from './types.js';
