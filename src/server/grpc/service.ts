/**
 * GRPCInferenceService handlers over the same engine calls as HTTP (oip/*). Every error goes out
 * with the status error-status.ts gives its code; a cancelled call cancels its request.
 */
import type * as grpc from '@grpc/grpc-js';
import { grpcError } from '../error-status.js';
import { runInference } from '../oip/infer.js';
import {
  modelConfig,
  modelMetadata,
  modelReady,
  repositoryIndex,
  serverMetadata,
  serverReady,
  statistics,
} from '../oip/metadata.js';
import { loadModel, loadParameters, unloadModel } from '../oip/model-control.js';
import { errors } from '../../errors.js';
import type { ServeContext } from '../context.js';
import { grpcModelConfig } from './model-config.js';
import { decodeGrpcInfer, encodeGrpcInfer, releaseRawInputs, type GrpcInferRequest } from './codec.js';
import { plainParameters, type GrpcParam } from '../../protocol/grpc-parameters.js';
import type { BodyPool } from '../../protocol/body-pool.js';
import { releaseReadBuffers } from './release-read-buffers.js';
import { allowedSharedMemory } from '../oip/shm-registry.js';
import { refusedReason } from './message-scan.js';

/** gRPC sends a file's bytes as bytes_param. */
function bytesFile(p: GrpcParam, what: string): Uint8Array {
  if (p.parameter_choice !== 'bytes_param' || !Buffer.isBuffer(p.bytes_param))
    throw errors.invalidArg(`${what} must be the file's bytes in bytes_param, got ${p.parameter_choice ?? 'no value'}`);
  return p.bytes_param;
}

// biome-ignore lint/suspicious/noExplicitAny: one handler type for every method of the loaded service
type Handler = (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => void;

/** Wraps an async handler: its value is the response, its error the call's status. */
function unary<Req>(work: (req: Req, call: grpc.ServerUnaryCall<Req, unknown>) => Promise<unknown> | unknown): Handler {
  return (call, callback) => {
    const refused = refusedReason(call.request);
    if (refused !== null) return callback(grpcError(errors.invalidArg(refused)));
    Promise.resolve()
      .then(() => work(call.request as Req, call))
      .then(
        (res) => callback(null, res),
        (err) => callback(grpcError(err)),
      );
  };
}

export function inferenceHandlers(ctx: ServeContext, pool: BodyPool): Record<string, Handler> {
  const { engine } = ctx;
  const shm = () => allowedSharedMemory(ctx.shm);
  return {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: serverReady(ctx) })),
    ModelReady: unary((r: { name: string; version: string }) => ({
      ready: modelReady(engine, r.name, r.version || undefined),
    })),
    ServerMetadata: unary(() => serverMetadata(ctx.shm !== null)),
    ModelMetadata: unary((r: { name: string; version: string }) =>
      modelMetadata(engine, r.name, r.version || undefined),
    ),
    ModelConfig: unary((r: { name: string; version: string }) => ({
      config: grpcModelConfig(modelConfig(engine, r.name, r.version || undefined)),
    })),
    ModelInfer: unary(async (r: GrpcInferRequest, call) => {
      releaseReadBuffers(call);
      const ac = new AbortController();
      const onCancel = () => ac.abort();
      call.once('cancelled', onCancel);
      try {
        return encodeGrpcInfer(
          await runInference(engine, r.model_name, r.model_version || undefined, decodeGrpcInfer(r), {
            signal: ac.signal,
            shm: ctx.shm,
          }),
        );
      } finally {
        // grpc-js also emits 'cancelled' when a finished call's stream closes: nothing to cancel then.
        call.off('cancelled', onCancel);
        // The request has ended: the scheduler's copy went to the instance, the input views are dead.
        releaseRawInputs(r, pool);
      }
    }),
    ModelStatistics: unary((r: { name: string; version: string }) =>
      statistics(engine, r.name || undefined, r.version || undefined),
    ),
    RepositoryIndex: unary(async (r: { ready: boolean }) => ({ models: await repositoryIndex(engine, r.ready) })),
    RepositoryModelLoad: unary(async (r: { model_name: string; parameters: Record<string, GrpcParam> }) => {
      const { params, files } = loadParameters(r.model_name, r.parameters ?? {}, bytesFile);
      await loadModel(engine, ctx.modelControlMode, r.model_name, plainParameters(params), files);
      return {};
    }),
    RepositoryModelUnload: unary(async (r: { model_name: string }) => {
      await unloadModel(engine, ctx.modelControlMode, r.model_name);
      return {};
    }),
    SystemSharedMemoryStatus: unary((r: { name: string }) => ({
      regions: Object.fromEntries(
        shm()
          .status(r.name || undefined)
          .map((s) => [s.name, s]),
      ),
    })),
    SystemSharedMemoryRegister: unary((r: { name: string; key: string; offset: string; byte_size: string }) => {
      shm().register(r.name, r.key, r.offset, r.byte_size);
      return {};
    }),
    SystemSharedMemoryUnregister: unary((r: { name: string }) => {
      shm().unregister(r.name || undefined);
      return {};
    }),
  };
}
