/**
 * Loads grpc_service.proto. The build (tsc) does not copy .proto files, so it is looked for beside
 * this module first and then in src/ from the package root, which both src/ (tsx) and dist/ reach.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export function protoPath(): string {
  const beside = fileURLToPath(new URL('./grpc_service.proto', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../src/protocol/grpc_service.proto', import.meta.url));
}

/** 64-bit integers arrive as strings (no precision lost); every field is present with its default. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export function loadInferenceService(): grpc.ServiceClientConstructor {
  const file = protoPath();
  // grpc_service.proto imports model_config.proto from its own folder.
  const def = protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: [path.dirname(file)] });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  return pkg.inference.GRPCInferenceService;
}
