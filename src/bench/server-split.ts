/**
 * Where the server spent a request's time, from two snapshots of Triton's statistics extension:
 * the deltas of the cumulative queue and compute counters divided by the requests counted between
 * them (what perf_analyzer prints as "queue X usec + compute input Y usec + ..."). Pure.
 */
import type { Duration, ModelStatistics } from '../engine/index.js';

export interface ServerSplit {
  /** Successful requests the server counted between the snapshots. */
  requests: number;
  /** Runs of the model (a batch of several requests is one). */
  executions: number;
  /** Inferences (batch rows) per execution. */
  avgBatch: number;
  /** Averages per request, microseconds. */
  queueUs: number;
  computeInputUs: number;
  computeInferUs: number;
  computeOutputUs: number;
}

const avgUs = (a: Duration, b: Duration): number =>
  b.count > a.count ? (b.ns - a.ns) / (b.count - a.count) / 1000 : NaN;

/** The split between snapshot `a` and later snapshot `b`; null when either is missing or nothing ran. */
export function serverSplit(a: ModelStatistics | null, b: ModelStatistics | null): ServerSplit | null {
  if (!a || !b) return null;
  const s = a.inference_stats;
  const t = b.inference_stats;
  const requests = t.success.count - s.success.count;
  if (requests <= 0) return null;
  const executions = b.execution_count - a.execution_count;
  return {
    requests,
    executions,
    avgBatch: executions > 0 ? (b.inference_count - a.inference_count) / executions : NaN,
    queueUs: avgUs(s.queue, t.queue),
    computeInputUs: avgUs(s.compute_input, t.compute_input),
    computeInferUs: avgUs(s.compute_infer, t.compute_infer),
    computeOutputUs: avgUs(s.compute_output, t.compute_output),
  };
}
