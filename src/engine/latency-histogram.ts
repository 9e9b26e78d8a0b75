/**
 * A model version's request latency as a distribution: a log-bucketed histogram of cumulative
 * counts, recorded where a request completes (model-stats.ts), so every transport counts (HTTP,
 * gRPC, in-process). Constant memory (BUCKETS counts per model version) and a constant cost per
 * request: one logarithm for the bucket's index and an increment; nothing is sorted or kept.
 *
 * Bucket i holds latencies in (2^(i/16), 2^((i+1)/16)] microseconds (bucket 0 also holds
 * everything at or below 1 us, the last everything above 2^27 us = 134 s): each bucket's bounds are
 * 4.4% apart, so a percentile read as its bucket's geometric middle is within 2.2% of the exact
 * one. A percentile over a time window is read from the difference of two snapshots of the
 * cumulative counts (the dashboard's per-second p50/p99); a Prometheus histogram takes its
 * buckets at the powers of two of microseconds, which are bucket bounds, so its counts are exact.
 */

/** Buckets per doubling of the latency. */
export const BUCKETS_PER_OCTAVE = 16;
/** Doublings above 1 us covered: up to 2^27 us (134 s); longer requests count in the last bucket. */
export const OCTAVES = 27;
export const BUCKETS = BUCKETS_PER_OCTAVE * OCTAVES;

/** The cumulative counts at one moment: `counts[i]` requests in bucket i, `count` in all, `sumMs` their total. */
export interface LatencySnapshot {
  readonly counts: Float64Array;
  readonly count: number;
  readonly sumMs: number;
}

/** What front ends may read of a model version's latency distribution: snapshots, no recording. */
export interface LatencyView {
  /** Successful requests recorded. */
  readonly count: number;
  /** Their latencies added up, ms. */
  readonly sumMs: number;
  /** A copy of the cumulative counts now. */
  snapshot(): LatencySnapshot;
}

/** The bucket a latency of `ms` falls in. */
export function bucketOf(ms: number): number {
  const i = Math.ceil(Math.log2(ms * 1000) * BUCKETS_PER_OCTAVE) - 1;
  // NaN, 0 and below (log2 gives NaN or -Infinity) go to the first bucket.
  if (!(i > 0)) return 0;
  return i < BUCKETS ? i : BUCKETS - 1;
}

/** The upper bound of bucket `i`, ms. */
export function bucketUpperMs(i: number): number {
  return 2 ** ((i + 1) / BUCKETS_PER_OCTAVE) / 1000;
}

/** The value read for bucket `i`: its geometric middle, ms. */
export function bucketMiddleMs(i: number): number {
  return 2 ** ((i + 0.5) / BUCKETS_PER_OCTAVE) / 1000;
}

export class LatencyHistogram implements LatencyView {
  private readonly counts = new Float64Array(BUCKETS);
  private n = 0;
  private sum = 0;

  /** One successful request's latency, ms. */
  record(ms: number): void {
    this.counts[bucketOf(ms)]++;
    this.n++;
    if (ms > 0) this.sum += ms;
  }

  get count(): number {
    return this.n;
  }

  get sumMs(): number {
    return this.sum;
  }

  snapshot(): LatencySnapshot {
    return { counts: this.counts.slice(), count: this.n, sumMs: this.sum };
  }
}

/**
 * Adds to `into` the requests counted in `now` and not in `before` (the distribution between two
 * snapshots of one histogram; `before` null: all of `now`). Returns how many that is.
 */
export function addWindow(into: Float64Array, now: LatencySnapshot, before: LatencySnapshot | null): number {
  const a = now.counts;
  if (!before) {
    for (let i = 0; i < BUCKETS; i++) into[i] += a[i];
    return now.count;
  }
  const b = before.counts;
  for (let i = 0; i < BUCKETS; i++) into[i] += a[i] - b[i];
  return now.count - before.count;
}

/**
 * The q-quantile (0 < q <= 1) of the requests in `counts` (`total` of them), ms: the nearest rank's
 * bucket, read at its middle; null when there are none.
 */
export function quantileMs(counts: ArrayLike<number>, total: number, q: number): number | null {
  if (!(total > 0)) return null;
  const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += counts[i];
    if (seen >= rank) return bucketMiddleMs(i);
  }
  return bucketMiddleMs(BUCKETS - 1);
}

/**
 * The cumulative counts at each power of two microseconds from 2^`fromOctave` us (at least 2 us)
 * to 2^(OCTAVES - 1) us (67 s), as Prometheus's `le` buckets: exact, as those are bucket bounds
 * (the first and last buckets, open-ended, are inside 2 us and above 67 s). "+Inf" is the count.
 */
export function powerOfTwoBuckets(s: LatencySnapshot, fromOctave = 1): { leUs: number; count: number }[] {
  const out: { leUs: number; count: number }[] = [];
  let seen = 0;
  let next = 0;
  for (let k = Math.max(1, fromOctave); k < OCTAVES; k++) {
    // Buckets below BUCKETS_PER_OCTAVE * k end at or below 2^k us.
    for (const end = BUCKETS_PER_OCTAVE * k; next < end; next++) seen += s.counts[next];
    out.push({ leUs: 2 ** k, count: seen });
  }
  return out;
}
