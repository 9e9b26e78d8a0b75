import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, percentileOfSorted, summarizeLatencies } from '../../src/bench/latency-summary.js';

test('percentiles are nearest-rank values that some request really had', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
  const table: [number[], number, number][] = [
    [hundred, 50, 50],
    [hundred, 90, 90],
    [hundred, 95, 95],
    [hundred, 99, 99],
    [hundred, 100, 100],
    [[7], 50, 7],
    [[7], 99, 7],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 51, 3],
    [[1, 2, 3, 4], 99, 4],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 95, 100],
  ];
  for (const [values, p, expected] of table)
    assert.equal(percentileOfSorted(values, p), expected, `p${p} of ${values.length} values`);
});

test('a summary gives avg, min, max and p50/p90/p95/p99 of unsorted latencies', () => {
  const values = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) + 1); // 1..1000 shuffled
  const s = summarizeLatencies(values);
  assert.deepEqual(
    { count: s.count, avg: s.avg, min: s.min, max: s.max, p50: s.p50, p90: s.p90, p95: s.p95, p99: s.p99 },
    { count: 1000, avg: 500.5, min: 1, max: 1000, p50: 500, p90: 900, p95: 950, p99: 990 },
  );
});

test('no latencies give NaN, and a percentile outside (0, 100] is refused naming it', () => {
  assert.ok(Number.isNaN(summarizeLatencies([]).p99));
  assert.throws(() => percentileOfSorted([1], 0), /percentile must be in \(0, 100\], got 0/);
  assert.throws(() => percentileOfSorted([1], 101), /got 101/);
});

test('median: the middle value, or the mean of the two middle ones; NaN for none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([0.9]), 0.9);
  assert.ok(Number.isNaN(median([])));
});
