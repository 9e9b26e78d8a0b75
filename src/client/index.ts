/** A small Open Inference Protocol client: HTTP (JSON or binary tensor data) and gRPC. */
export { HttpClient } from './http.js';
export { GrpcClient, GrpcInferStream } from './grpc.js';
export { imageInputs, imageFileInputs } from './images.js';
export { SharedMemoryRegion, type SharedMemoryInput, type SharedMemoryOutput, type SharedMemoryPlace } from './shared-memory.js';
export { ServerError, type ClientInferOptions, type ClientInferResult, type InferenceClient, type ModelMetadata } from './types.js';
