import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrivalTimes } from '../../src/bench/arrivals.js';
import { mean } from '../../src/bench/latency-summary.js';

function take(n: number, gen: Generator<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(gen.next().value as number);
  return out;
}

test('Poisson arrivals have the requested mean rate and exponential gaps (coefficient of variation 1)', () => {
  const rate = 200; // requests/s: mean gap 5 ms
  const times = take(20000, arrivalTimes({ rate, distribution: 'poisson', seed: 7 }));
  const gaps = times.map((t, i) => t - (i ? times[i - 1] : 0));
  const m = mean(gaps);
  const sd = Math.sqrt(mean(gaps.map((g) => (g - m) ** 2)));
  assert.ok(Math.abs(m - 5) < 0.15, `mean gap ${m} ms, expected 5`);
  assert.ok(Math.abs(sd / m - 1) < 0.05, `coefficient of variation ${sd / m}, expected 1`);
  assert.ok(gaps.every((g) => g >= 0));
});

test('Poisson arrival counts per interval have variance equal to their mean (index of dispersion 1)', () => {
  const rate = 1000;
  const times = take(100000, arrivalTimes({ rate, distribution: 'poisson', seed: 3 }));
  const counts = new Map<number, number>();
  const last = Math.floor(times[times.length - 1] / 10);
  for (const t of times) {
    const k = Math.floor(t / 10);
    if (k < last) counts.set(k, (counts.get(k) ?? 0) + 1); // 10 ms bins, the last partial one left out
  }
  const c = Array.from({ length: last }, (_, k) => counts.get(k) ?? 0);
  const m = mean(c);
  const v = mean(c.map((x) => (x - m) ** 2));
  assert.ok(Math.abs(m - 10) < 0.3, `mean count ${m} per 10 ms, expected 10`);
  assert.ok(Math.abs(v / m - 1) < 0.1, `index of dispersion ${v / m}, expected 1`);
});

test('constant arrivals are evenly spaced, the same seed replays the same Poisson times, bad rates are refused', () => {
  assert.deepEqual(take(4, arrivalTimes({ rate: 4, distribution: 'constant' })), [0, 250, 500, 750]);
  assert.deepEqual(
    take(5, arrivalTimes({ rate: 50, distribution: 'poisson', seed: 9 })),
    take(5, arrivalTimes({ rate: 50, distribution: 'poisson', seed: 9 })),
  );
  assert.throws(
    () => take(1, arrivalTimes({ rate: 0, distribution: 'constant' })),
    /request rate must be a number > 0 \(requests\/s\), got 0/,
  );
  assert.throws(() => take(1, arrivalTimes({ rate: 1, distribution: 'gamma' as 'poisson' })), /got "gamma"/);
});
