/**
 * The messages between the engine and a host (worker thread or child process). Errors travel as
 * data ({code, message, details}); times are epoch milliseconds with sub-ms precision taken inside
 * the host, so overlap between instances is measured by the instances themselves.
 */
import type { WireError } from '../errors.js';
import type { TensorMap } from '../tensor.js';
import type { SessionOptions, SessionTensorInfo } from './session.js';
import type { SimulatedModel } from './sim-session.js';

/** One warm-up sample and how many times an instance runs it. */
export interface WarmupRun {
  inputs: TensorMap;
  runs: number;
}

export interface LoadMessage {
  type: 'load';
  /** Path of the model file. */
  file: string;
  session: SessionOptions;
  /** The warm-up runs, in order: the instance takes no request before these complete. */
  warmup: WarmupRun[];
  /** Present for a simulated accelerator: no runtime session is created. */
  simulated?: SimulatedModel;
}
/** Write `source` as a shared-weights model at `target` (ort-session.ts writeSharedWeightsModel). */
export interface PrepareMessage {
  type: 'prepare';
  source: string;
  target: string;
}
export interface RunMessage {
  type: 'run';
  id: number;
  inputs: TensorMap;
  outputs?: string[];
}
export interface CloseMessage {
  type: 'close';
}
export type ToHost = LoadMessage | PrepareMessage | RunMessage | CloseMessage;

/** The session exists; warm-up runs follow. */
export interface LoadedMessage {
  type: 'loaded';
}
export interface ReadyMessage {
  type: 'ready';
  inputs: SessionTensorInfo[];
  outputs: SessionTensorInfo[];
  loadMs: number;
  warmupMs: number;
  pid: number;
  /** Resident memory of the host's process after warm-up, bytes (the whole process for a thread). */
  rssBytes: number;
}
/** The answer to a prepare message: `error` when ONNX Runtime could not write the model. */
export interface PreparedMessage {
  type: 'prepared';
  error?: WireError;
}
export interface LoadFailedMessage {
  type: 'load-failed';
  error: WireError;
}
export interface ResultMessage {
  type: 'result';
  id: number;
  outputs: TensorMap;
  /** When session.run started and ended, epoch ms inside the host. */
  computeStart: number;
  computeEnd: number;
  /** The run's input buffers, handed back by a worker thread for reuse (batch-buffers.ts). */
  returned?: ArrayBuffer[];
}
export interface FailedMessage {
  type: 'failed';
  id: number;
  error: WireError;
}
export type FromHost =
  | LoadedMessage
  | ReadyMessage
  | LoadFailedMessage
  | PreparedMessage
  | ResultMessage
  | FailedMessage;

/** Epoch milliseconds with sub-millisecond precision, comparable across threads and processes. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
