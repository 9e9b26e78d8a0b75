import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  estimateMemory,
  maxLevelForMemory,
  bestPoint,
  batchSizesFor,
  outstandingFor,
} from '../../src/bench/sweep-rules.js';

const MB = 2 ** 20;

test('memory per instance is the slope of memory over level, or the growth over idle with one level', () => {
  const table: [string, { level: number; bytes: number }[], number, ReturnType<typeof estimateMemory>][] = [
    ['no levels', [], 50 * MB, null],
    [
      'one level',
      [{ level: 1, bytes: 80 * MB }],
      50 * MB,
      { baseBytes: 50 * MB, perInstanceBytes: 30 * MB, method: 'one level' },
    ],
    [
      'two levels',
      [
        { level: 1, bytes: 80 * MB },
        { level: 2, bytes: 105 * MB },
      ],
      50 * MB,
      { baseBytes: 55 * MB, perInstanceBytes: 25 * MB, method: 'fit' },
    ],
    [
      'noisy line',
      [
        { level: 1, bytes: 80 * MB },
        { level: 2, bytes: 100 * MB },
        { level: 3, bytes: 130 * MB },
      ],
      50 * MB,
      { baseBytes: (160 / 3) * MB, perInstanceBytes: 25 * MB, method: 'fit' },
    ],
    [
      'memory not handed back: slope <= 0',
      [
        { level: 1, bytes: 90 * MB },
        { level: 2, bytes: 88 * MB },
      ],
      50 * MB,
      { baseBytes: 50 * MB, perInstanceBytes: 19 * MB, method: 'one level' },
    ],
    [
      'no growth over idle: unknown',
      [
        { level: 1, bytes: 50 * MB },
        { level: 2, bytes: 50 * MB },
      ],
      50 * MB,
      null,
    ],
  ];
  for (const [name, points, idle, expected] of table) {
    const got = estimateMemory(points, idle);
    if (expected === null) assert.equal(got, null, name);
    else {
      assert.equal(got!.method, expected.method, name);
      assert.ok(
        Math.abs(got!.perInstanceBytes - expected.perInstanceBytes) < 1,
        `${name}: per instance ${got!.perInstanceBytes / MB} MB`,
      );
      assert.ok(Math.abs(got!.baseBytes - expected.baseBytes) < 1, `${name}: base ${got!.baseBytes / MB} MB`);
    }
  }
});

test('the maximum concurrency level is what the memory budget holds', () => {
  const m = { baseBytes: 100 * MB, perInstanceBytes: 25 * MB, method: 'fit' as const };
  assert.equal(maxLevelForMemory(m, 200 * MB), 4);
  assert.equal(maxLevelForMemory(m, 199 * MB), 3);
  assert.equal(maxLevelForMemory(m, 50 * MB), 0);
  assert.equal(maxLevelForMemory(m, Infinity), Infinity);
  assert.equal(maxLevelForMemory(null, 200 * MB), Infinity);
});

test('the best level, the batch sizes a model takes and the load that keeps instances busy', () => {
  assert.deepEqual(
    bestPoint([
      { level: 1, throughput: 5 },
      { level: 2, throughput: 9 },
      { level: 3, throughput: 9 },
    ]),
    { level: 2, throughput: 9 },
  );
  assert.equal(bestPoint([]), null);
  assert.deepEqual(batchSizesFor(8), [1, 2, 4, 8]);
  assert.deepEqual(batchSizesFor(32), [1, 2, 4, 8, 16, 32]);
  assert.deepEqual(batchSizesFor(0), [1]);
  assert.deepEqual(batchSizesFor(32, [4, 1, 4, 64]), [1, 4]);
  assert.throws(() => batchSizesFor(8, [0]), /batch sizes must be integers >= 1, got 0/);
  assert.equal(outstandingFor(3), 6);
  assert.throws(() => outstandingFor(0), /instances must be an integer >= 1, got 0/);
});
