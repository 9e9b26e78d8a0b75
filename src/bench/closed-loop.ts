/**
 * The closed-loop load generator, the one that `tenancy bench` (LoadGenerator's concurrency
 * mode), `tenancy start`'s self-check and the benchmark scripts all use: `concurrency` senders,
 * each sending its next request as soon as its last one returns, so exactly that many requests
 * are outstanding, until a deadline passes or a stop condition holds (checked before each send;
 * the requests then outstanding are waited for). Every request is timed; one that fails is
 * counted, never thrown.
 */
import { errors } from '../errors.js';

/** One finished request. */
export interface Completion {
  /** performance.now() when it ended. */
  endMs: number;
  latencyMs: number;
  ok: boolean;
}

export interface ClosedLoopOptions {
  /** Requests kept outstanding: an integer >= 1. */
  concurrency: number;
  /** Stop sending this many ms after the start. */
  durationMs?: number;
  /** Stop sending once this returns true. At least one of durationMs and until is needed. */
  until?: () => boolean;
  /** Called as each request ends, with what it threw when it failed. */
  onCompletion?: (completion: Completion, error?: unknown) => void;
  /** Keep the successful requests' latencies for the result (default true). */
  keepLatencies?: boolean;
}

export interface ClosedLoopResult {
  /** Requests that succeeded and that failed (threw or rejected). */
  ok: number;
  failed: number;
  /** Latencies of the successful requests, ms, in the order they ended (empty with keepLatencies false). */
  latencies: number[];
  /** What the first failed request threw; undefined when none failed. */
  firstError: unknown;
  /** From the start until the last request returned, s. */
  seconds: number;
}

export function checkConcurrency(concurrency: number): void {
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    throw errors.invalidArg(`concurrency must be an integer >= 1, got ${concurrency}`);
}

/** Sends one request and times it; a failure is a completion with ok false and the error beside it. */
export async function timeRequest(send: () => Promise<unknown>): Promise<{ completion: Completion; error?: unknown }> {
  const t0 = performance.now();
  let failure: { error: unknown } | null = null;
  try {
    await send();
  } catch (error) {
    failure = { error };
  }
  const endMs = performance.now();
  const completion = { endMs, latencyMs: endMs - t0, ok: failure === null };
  return failure ? { completion, error: failure.error } : { completion };
}

/**
 * Keeps `concurrency` calls of `send` outstanding until `durationMs` has passed since the start or
 * `until()` holds, then waits for those outstanding; counts and times every call.
 */
export async function runClosedLoop(
  send: () => Promise<unknown>,
  options: ClosedLoopOptions,
): Promise<ClosedLoopResult> {
  const { concurrency, durationMs, until, onCompletion, keepLatencies = true } = options;
  checkConcurrency(concurrency);
  if (durationMs === undefined && until === undefined)
    throw errors.invalidArg('a closed loop needs a duration or a stop condition');
  if (durationMs !== undefined && !(durationMs >= 0))
    throw errors.invalidArg(`closed-loop duration must be >= 0 ms, got ${durationMs}`);
  const result: ClosedLoopResult = { ok: 0, failed: 0, latencies: [], firstError: undefined, seconds: 0 };
  const start = performance.now();
  const end = start + (durationMs ?? Infinity);
  const sender = async () => {
    while (performance.now() < end && !until?.()) {
      const { completion, error } = await timeRequest(send);
      if (completion.ok) {
        result.ok++;
        if (keepLatencies) result.latencies.push(completion.latencyMs);
      } else {
        result.failed++;
        if (result.failed === 1) result.firstError = error;
      }
      onCompletion?.(completion, error);
      // A target that fails at once would otherwise spin this loop without yielding.
      if (result.failed > 0) await new Promise((r) => setImmediate(r));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  result.seconds = (performance.now() - start) / 1000;
  return result;
}
