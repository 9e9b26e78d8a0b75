/**
 * The engine's latency histogram (src/engine/latency-histogram.ts) against the exact answer: on
 * seeded data of several shapes, every percentile read from it is within half a bucket (2.2%) of
 * the nearest-rank percentile of the sorted values; the difference of two snapshots is the
 * distribution between them; its power-of-two buckets count exactly the values at or below each
 * bound; odd values (0, negative, NaN, longer than its range) are counted, not thrown on; and its
 * memory stays the same however many requests it counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUCKETS,
  BUCKETS_PER_OCTAVE,
  LatencyHistogram,
  addWindow,
  bucketOf,
  powerOfTwoBuckets,
  quantileMs,
} from '../../src/engine/latency-histogram.js';
import { seededRandom } from '../../src/bench/rng.js';

const seeded = seededRandom;

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

const SHAPES: Record<string, (r: () => number) => number> = {
  'log-normal around 5 ms': (r) => 5 * Math.exp(0.5 * normal(r)),
  'fast with a 2% slow tail (0.3 ms / 80 ms)': (r) => (r() < 0.98 ? 0.3 + 0.05 * r() : 80 + 40 * r()),
  'uniform 0.05-2000 ms': (r) => 0.05 + 1999.95 * r(),
  'sub-millisecond, narrow': (r) => 0.12 + 0.01 * r(),
};
const QUANTILES = [0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1];
/** Half a bucket: the most the geometric middle can be off the value it stands for (plus rounding). */
const TOLERANCE = 2 ** (1 / (2 * BUCKETS_PER_OCTAVE)) - 1 + 1e-9;

const nearestRank = (sorted: Float64Array, q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

test('percentiles are within half a bucket of the sorted reference, for every shape', () => {
  for (const [shape, draw] of Object.entries(SHAPES)) {
    for (const seed of [1, 2, 3]) {
      const r = seeded(seed);
      const h = new LatencyHistogram();
      const values = Float64Array.from({ length: 20_000 }, () => draw(r));
      for (const v of values) h.record(v);
      const s = h.snapshot();
      assert.equal(s.count, values.length);
      assert.ok(Math.abs(s.sumMs - values.reduce((a, b) => a + b, 0)) < 1e-6 * s.sumMs);
      const sorted = values.slice().sort();
      for (const q of QUANTILES) {
        const exact = nearestRank(sorted, q);
        const got = quantileMs(s.counts, s.count, q)!;
        assert.ok(
          Math.abs(got / exact - 1) <= TOLERANCE,
          `${shape}, seed ${seed}, p${q * 100}: ${got} ms read, ${exact} ms exact (${(got / exact - 1) * 100}%)`,
        );
      }
    }
  }
});

test('the difference of two snapshots is the distribution between them', () => {
  const r = seeded(7);
  const h = new LatencyHistogram();
  const before = Float64Array.from({ length: 5000 }, () => SHAPES['fast with a 2% slow tail (0.3 ms / 80 ms)'](r));
  for (const v of before) h.record(v);
  const first = h.snapshot();
  const after = Float64Array.from({ length: 3000 }, () => SHAPES['log-normal around 5 ms'](r));
  for (const v of after) h.record(v);
  const second = h.snapshot();
  // The snapshot is a copy: recording later does not change it.
  assert.equal(first.count, before.length);

  const window = new Float64Array(BUCKETS);
  assert.equal(addWindow(window, second, first), after.length);
  const sorted = after.slice().sort();
  for (const q of QUANTILES) {
    const exact = nearestRank(sorted, q);
    const got = quantileMs(window, after.length, q)!;
    assert.ok(Math.abs(got / exact - 1) <= TOLERANCE, `p${q * 100} of the second part: ${got} vs ${exact}`);
  }
  // Two versions of a model add up: the window of each, into one.
  const other = new LatencyHistogram();
  for (const v of before) other.record(v);
  const both = new Float64Array(BUCKETS);
  const n = addWindow(both, second, first) + addWindow(both, other.snapshot(), null);
  assert.equal(n, before.length + after.length);
  const all = Float64Array.from([...before, ...after]).sort();
  assert.ok(Math.abs(quantileMs(both, n, 0.5)! / nearestRank(all, 0.5) - 1) <= TOLERANCE);
  // Nothing between two snapshots: no percentile.
  assert.equal(quantileMs(new Float64Array(BUCKETS), 0, 0.5), null);
  const none = new Float64Array(BUCKETS);
  assert.equal(addWindow(none, second, second), 0);
  assert.equal(quantileMs(none, 0, 0.99), null);
});

test('the power-of-two buckets count exactly the values at or below each bound', () => {
  const r = seeded(11);
  const h = new LatencyHistogram();
  const values = Float64Array.from({ length: 20_000 }, () => SHAPES['uniform 0.05-2000 ms'](r) ** (r() * 2));
  for (const v of values) h.record(v);
  const buckets = powerOfTwoBuckets(h.snapshot(), 6);
  assert.equal(buckets[0].leUs, 64);
  assert.equal(buckets.at(-1)!.leUs, 2 ** 26);
  for (const b of buckets) {
    const exact = values.filter((v) => v * 1000 <= b.leUs).length;
    assert.equal(b.count, exact, `le ${b.leUs} us`);
  }
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].count >= buckets[i - 1].count, 'cumulative');
  // A value exactly at a bound is at or below it.
  const at = new LatencyHistogram();
  at.record(1.024); // 1024 us = 2^10
  assert.equal(powerOfTwoBuckets(at.snapshot()).find((b) => b.leUs === 1024)?.count, 1);
  assert.equal(powerOfTwoBuckets(at.snapshot()).find((b) => b.leUs === 512)?.count, 0);
});

test('odd values are counted, not thrown on, and memory stays the same', () => {
  const h = new LatencyHistogram();
  for (const v of [0, -1, Number.NaN, 1e-9]) h.record(v);
  h.record(500_000); // 500 s: beyond the range, in the last bucket
  const s = h.snapshot();
  assert.equal(s.count, 5);
  assert.equal(s.counts[0], 4);
  assert.equal(s.counts[BUCKETS - 1], 1);
  assert.equal(s.sumMs, 500_000 + 1e-9, 'the sum takes positive latencies only');
  assert.equal(bucketOf(Number.POSITIVE_INFINITY), BUCKETS - 1);
  assert.ok(quantileMs(s.counts, s.count, 1)! > 60_000, 'the longest reads as the top of the range');

  const r = seeded(5);
  for (let i = 0; i < 1_000_000; i++) h.record(r() * 100);
  const big = h.snapshot();
  assert.equal(big.counts.length, BUCKETS, 'the same buckets after a million requests');
  assert.equal(big.count, 1_000_005);
});
