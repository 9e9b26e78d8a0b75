/**
 * The one error type of tenancy. Every failure carries a code from a small fixed set (as Triton's
 * Status does); front ends map the code to an HTTP or gRPC status in exactly one place. Messages
 * name the offending value and what was expected. Errors cross the worker boundary as plain data
 * ({code, message, details}) and are rebuilt on this side with fromWire().
 */
import { preview } from './preview.js';

// Each code's HTTP and gRPC status (server/error-status.ts is the one place that maps them).
export type ErrorCode =
  | 'INVALID_ARG' // the request, a config or a command-line argument is wrong: 400, INVALID_ARGUMENT
  | 'NOT_FOUND' // unknown model or version: 404, NOT_FOUND
  | 'FORBIDDEN' // a restricted API without its key header: 403, UNAVAILABLE (as Triton)
  | 'UNAVAILABLE' // model not ready (loading, unloading, failed) or the server is closing: 503, UNAVAILABLE
  | 'QUEUE_FULL' // the model's bounded queue is at its limit: 503, UNAVAILABLE (as Triton)
  | 'TIMEOUT' // the request's deadline passed, queued or running: 503, UNAVAILABLE (as Triton)
  | 'CANCELLED' // the caller aborted the request (or went away): 400, CANCELLED
  | 'INSTANCE_FAILED' // the instance running the request crashed: 500, INTERNAL
  | 'INTERNAL'; // anything else: 500, INTERNAL

export interface WireError {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class TenancyError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'TenancyError';
    this.code = code;
    this.details = details;
  }
}

/**
 * A run that never started: its host died while it waited behind the run in progress. Its
 * requests may go to another instance; a run that had started may not (it may have had effects,
 * and it failed once already). A type rather than a flag in `details`, so that the scheduler's
 * decision cannot be set, lost or leaked to a client by accident; to a client it is an
 * INSTANCE_FAILED like any other.
 */
export class RunNotStartedError extends TenancyError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INSTANCE_FAILED', message, details);
    this.name = 'RunNotStartedError';
  }
}

export function toWire(err: unknown): WireError {
  if (err instanceof TenancyError) return { code: err.code, message: err.message, details: err.details };
  if (err instanceof Error) return { code: 'INTERNAL', message: err.message };
  return { code: 'INTERNAL', message: String(err) };
}

export function fromWire(w: WireError): TenancyError {
  return new TenancyError(w.code, w.message, w.details ?? {});
}

export function isTenancyError(err: unknown, code?: ErrorCode): err is TenancyError {
  return err instanceof TenancyError && (code === undefined || err.code === code);
}

/** A value as messages quote it: bounded and safe for anything a client sent (preview.ts). */
const show = (v: unknown): string => preview(v, 120);

// Named constructors: every message of a kind reads the same, and tests can match on them.
export const errors = {
  invalidArg: (message: string, details: Record<string, unknown> = {}) =>
    new TenancyError('INVALID_ARG', message, details),
  invalidConfig: (file: string, field: string, value: unknown, expected: string) =>
    new TenancyError('INVALID_ARG', `${file}: field "${field}" ${expected}, got ${show(value)}`, {
      file,
      field,
      value,
    }),
  modelNotFound: (model: string, known: string[]) =>
    new TenancyError(
      'NOT_FOUND',
      `unknown model ${show(model)}` +
        `${known.length ? ` (known: ${known.join(', ')})` : ' (no models in the repository)'}`,
      { model },
    ),
  notLoadedYet: (model: string) =>
    new TenancyError(
      'UNAVAILABLE',
      `model ${show(model)} is not loaded yet: the server is starting and has not read the repository ` +
        '(an unknown name is NOT_FOUND once GET /v2/health/ready says the loads have ended)',
      { model },
    ),
  versionNotFound: (model: string, version: number | string, loaded: number[]) =>
    new TenancyError(
      'NOT_FOUND',
      `model "${model}" has no loaded version ${show(version)} (loaded: ${loaded.length ? loaded.join(', ') : 'none'})`,
      { model, version },
    ),
  modelNotReady: (model: string, state: string, reason?: string) =>
    new TenancyError('UNAVAILABLE', `model "${model}" is not ready: it is ${state}${reason ? ` (${reason})` : ''}`, {
      model,
      state,
    }),
  queueFull: (model: string, limit: number) =>
    new TenancyError(
      'QUEUE_FULL',
      `model "${model}" queue is full: ${limit} requests waiting (max_queue_size ${limit})`,
      {
        model,
        limit,
      },
    ),
  timeout: (model: string, timeoutMs: number, where: 'queued' | 'running') =>
    new TenancyError('TIMEOUT', `request to model "${model}" timed out after ${timeoutMs} ms while ${where}`, {
      model,
      timeoutMs,
      where,
    }),
  cancelled: (model: string) => new TenancyError('CANCELLED', `request to model "${model}" was cancelled`, { model }),
  instanceFailed: (instance: string, why: string) =>
    new TenancyError('INSTANCE_FAILED', `instance ${instance} failed: ${why}`, { instance }),
  internal: (message: string) => new TenancyError('INTERNAL', message),
};
