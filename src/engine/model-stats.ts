/**
 * Per model version statistics, in the shape of Triton's statistics extension: counts and
 * cumulative nanoseconds for success, fail, queue and the three compute phases, computed from the
 * request's own timestamps; and the successful requests' latency distribution
 * (latency-histogram.ts), for percentiles.
 */
import type { InferenceRequest } from './request.js';
import type { RunResult } from '../runtime/index.js';
import { LatencyHistogram } from './latency-histogram.js';

export interface Duration {
  count: number;
  ns: number;
}

export interface ModelStatistics {
  name: string;
  version: string;
  /** Epoch ms of the last inference, 0 when none. */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: {
    success: Duration;
    fail: Duration;
    queue: Duration;
    compute_input: Duration;
    compute_infer: Duration;
    compute_output: Duration;
  };
  batch_stats: { batch_size: number; compute_input: Duration; compute_infer: Duration; compute_output: Duration }[];
}

const MS_TO_NS = 1e6;
const zero = (): Duration => ({ count: 0, ns: 0 });
const add = (d: Duration, ms: number) => {
  d.count++;
  d.ns += Math.max(0, Math.round(ms * MS_TO_NS));
};

/** Where a request's time went, ms: what its result reports and its statistics add up. */
export function phaseTimes(req: InferenceRequest, r: RunResult, doneAt: number) {
  return {
    // A run sent ahead to a busy instance waited there: that wait is queue time too.
    queueMs: (req.dispatchedAt ?? r.sentAt) - req.receivedAt + r.hostWaitMs,
    // Image preprocessing (decode, resize, normalize) is input preparation, as Triton's compute_input.
    computeInputMs: req.preprocessMs + r.computeStart - r.sentAt - r.hostWaitMs,
    computeInferMs: r.computeEnd - r.computeStart,
    computeOutputMs: r.receivedAt - r.computeEnd,
    totalMs: req.preprocessMs + doneAt - req.receivedAt,
  };
}

export class ModelStats {
  private s: ModelStatistics;
  private batches = new Map<number, ModelStatistics['batch_stats'][number]>();
  /** The successful requests' latencies (their success duration) as a distribution: percentiles. */
  readonly latency = new LatencyHistogram();

  constructor(name: string, version: number) {
    this.s = {
      name,
      version: String(version),
      last_inference: 0,
      inference_count: 0,
      execution_count: 0,
      inference_stats: {
        success: zero(),
        fail: zero(),
        queue: zero(),
        compute_input: zero(),
        compute_infer: zero(),
        compute_output: zero(),
      },
      batch_stats: [],
    };
  }

  /** A request that ran and returned its outputs (its compute times are its batch's, as in Triton). */
  success(req: InferenceRequest, r: RunResult, doneAt: number): void {
    const st = this.s.inference_stats;
    const t = phaseTimes(req, r, doneAt);
    add(st.success, t.totalMs);
    this.latency.record(t.totalMs);
    add(st.queue, t.queueMs);
    add(st.compute_input, t.computeInputMs);
    add(st.compute_infer, t.computeInferMs);
    add(st.compute_output, t.computeOutputMs);
    this.s.inference_count += req.batchSize;
    this.s.last_inference = Math.round(doneAt);
  }

  /** One execution on an instance: a batch of `rows` (one or more requests merged). */
  execution(rows: number, r: RunResult): void {
    this.s.execution_count++;
    let b = this.batches.get(rows);
    if (!b) {
      b = { batch_size: rows, compute_input: zero(), compute_infer: zero(), compute_output: zero() };
      this.batches.set(rows, b);
    }
    add(b.compute_input, r.computeStart - r.sentAt - r.hostWaitMs);
    add(b.compute_infer, r.computeEnd - r.computeStart);
    add(b.compute_output, r.receivedAt - r.computeEnd);
  }

  fail(req: InferenceRequest, doneAt: number): void {
    add(this.s.inference_stats.fail, req.preprocessMs + doneAt - req.receivedAt);
  }

  snapshot(): ModelStatistics {
    const copy = structuredClone(this.s);
    copy.batch_stats = [...this.batches.values()]
      .sort((a, b) => a.batch_size - b.batch_size)
      .map((b) => structuredClone(b));
    return copy;
  }
}
