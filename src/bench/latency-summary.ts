/**
 * Latency and throughput statistics, as perf_analyzer reports them: average and nearest-rank
 * percentiles (p50/p90/p95/p99) of the requests completed in a measurement. Pure.
 */
import { errors } from '../errors.js';

/** Latency summary of one measurement, in ms. NaN when no request completed. */
export interface LatencySummary {
  count: number;
  avg: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

export const PERCENTILES = [50, 90, 95, 99] as const;

/**
 * Nearest-rank percentile of an ascending-sorted list: the smallest value with at least p% of the
 * values at or below it (p in (0, 100]). Nearest-rank, not interpolated, so a reported p99 is a
 * latency some request really had, as perf_analyzer does.
 */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw errors.invalidArg(`percentile must be in (0, 100], got ${p}`);
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

export function summarizeLatencies(latenciesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  const list = sorted as unknown as number[];
  const n = sorted.length;
  return {
    count: n,
    avg: mean(list),
    min: n ? sorted[0] : NaN,
    max: n ? sorted[n - 1] : NaN,
    p50: percentileOfSorted(list, 50),
    p90: percentileOfSorted(list, 90),
    p95: percentileOfSorted(list, 95),
    p99: percentileOfSorted(list, 99),
  };
}

/** Least-squares line through (x, y) points: y = intercept + slope * x. Needs two distinct x. */
export function linearFit(points: readonly { x: number; y: number }[]): { slope: number; intercept: number } | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = mean(points.map((p) => p.x));
  const my = mean(points.map((p) => p.y));
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}
