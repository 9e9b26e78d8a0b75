/**
 * One inference request as it travels from a front end through the queue to an instance and back.
 * It carries its own timestamps (epoch ms, taken where each step happens); statistics are computed
 * from them, never measured again elsewhere.
 */
import type { TenancyError } from '../errors.js';
import type { TensorMap } from '../tensor.js';

export interface InferOptions {
  /** Model version; the newest loaded one when omitted. */
  version?: number;
  /** Deadline from now, in ms, covering queue and run; the model's default_timeout applies when omitted. */
  timeoutMs?: number;
  /** Aborting cancels a queued request at once, or a running one's answer. */
  signal?: AbortSignal;
  /** Output names to return (all when omitted). */
  outputs?: string[];
  /** Caller's id, echoed in results. */
  id?: string;
  /**
   * Priority level for models with dynamic_batching.priority_levels: 1 is served first;
   * 0 or omitted = the model's default_priority_level.
   */
  priority?: number;
}

export interface InferResult {
  model: string;
  version: number;
  id?: string;
  outputs: TensorMap;
  /** Where the time went, in ms; computeInputMs and totalMs include image preprocessing. */
  timing: { queueMs: number; computeInputMs: number; computeInferMs: number; computeOutputMs: number; totalMs: number };
  /** Epoch ms of each step: received here, sent to the instance, session.run start/end in the host, done. */
  timestamps: { received: number; dispatched: number; computeStart: number; computeEnd: number; done: number };
  /** The instance that ran it, e.g. "mobilenet_v2:1#0". */
  instance: string;
}

export interface InferenceRequest {
  seq: number;
  model: string;
  version: number;
  id?: string;
  inputs: TensorMap;
  outputs?: string[];
  /** Rows along the batch dimension (1 when the model does not batch). */
  batchSize: number;
  /** Requests with equal keys may be merged into one batch. */
  batchKey: string;
  /** Queue level index: 0 is served first. */
  level: number;
  /** Epoch ms after which the request fails with TIMEOUT; Infinity for none. */
  deadline: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Epoch ms when the request entered the queue (after any image preprocessing). */
  receivedAt: number;
  /** Time spent decoding and resizing images before the queue, ms (0 without); counted in compute_input. */
  preprocessMs: number;
  dispatchedAt?: number;
  settled: boolean;
  resolve(r: InferResult): void;
  reject(e: TenancyError): void;
}
