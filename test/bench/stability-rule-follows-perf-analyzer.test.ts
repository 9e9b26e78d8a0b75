import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStable, windowVerdict, checkStabilityRule, DEFAULT_STABILITY } from '../../src/bench/windows.js';

const w = (throughput: number, latencyAvgMs: number) => ({ throughput, latencyAvgMs });

test('a setting is stable when the last 3 windows agree within 10% on throughput and latency', () => {
  const table: [string, ReturnType<typeof w>[], boolean][] = [
    ['fewer than 3 windows', [w(100, 10), w(100, 10)], false],
    ['three equal windows', [w(100, 10), w(100, 10), w(100, 10)], true],
    ['throughput spread exactly 10%', [w(100, 10), w(110, 10), w(105, 10)], true],
    ['throughput spread 11%', [w(100, 10), w(111, 10), w(105, 10)], false],
    ['latency spread 12%', [w(100, 10), w(100, 11.2), w(100, 10)], false],
    ['an early outlier is forgotten', [w(10, 90), w(100, 10), w(101, 10), w(99, 10)], true],
    ['a window without completions', [w(100, 10), w(0, NaN), w(100, 10)], false],
  ];
  for (const [name, windows, stable] of table) assert.equal(isStable(windows, DEFAULT_STABILITY), stable, name);
});

test('measuring stops when stable, or after 10 windows marked unstable', () => {
  const noisy = Array.from({ length: 10 }, (_, i) => w(i % 2 ? 100 : 150, 10));
  assert.equal(windowVerdict(noisy.slice(0, 9)), 'continue');
  assert.equal(windowVerdict(noisy), 'unstable');
  assert.equal(windowVerdict([w(100, 10), w(100, 10), w(100, 10)]), 'stable');
});

test('a bad stability rule is refused naming the value', () => {
  assert.throws(
    () => checkStabilityRule({ threshold: -1, count: 3, maxWindows: 10 }),
    /threshold must be >= 0.*got -1/,
  );
  assert.throws(
    () => checkStabilityRule({ threshold: 0.1, count: 0, maxWindows: 10 }),
    /window count must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => checkStabilityRule({ threshold: 0.1, count: 3, maxWindows: 2 }),
    /maximum windows must be .* got 2/,
  );
});
