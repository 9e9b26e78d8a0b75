import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextSweepStep, DEFAULT_SWEEP_RULE, type SweepPoint, type MemoryModel } from '../../src/bench/sweep-rules.js';

const curve = (...tp: number[]): SweepPoint[] => tp.map((throughput, i) => ({ level: i + 1, throughput }));
const MB = 2 ** 20;

test('the sweep goes on while throughput rises and stops after 3 steps without a 5% gain', () => {
  const rule = { ...DEFAULT_SWEEP_RULE, maxLevel: 16 };
  const table: [string, SweepPoint[], ReturnType<typeof nextSweepStep>][] = [
    ['starts at level 1', [], { next: 1 }],
    ['rising', curve(100, 180), { next: 3 }],
    ['flat for only 2 steps', curve(100, 180, 181, 182), { next: 5 }],
    [
      'flat for 3 steps',
      curve(100, 180, 181, 182, 183),
      { stop: 'throughput did not improve by 5% over the last 3 steps (best 180.0 before them, 183.0 in them)' },
    ],
    [
      'falling for 3 steps',
      curve(100, 200, 190, 180, 170),
      { stop: 'throughput did not improve by 5% over the last 3 steps (best 200.0 before them, 190.0 in them)' },
    ],
    ['small gains that add up to 5% go on', curve(100, 102, 104, 106), { next: 5 }],
    ['a late 5% gain restarts the count', curve(100, 180, 181, 182, 190), { next: 6 }],
  ];
  for (const [name, points, expected] of table) assert.deepEqual(nextSweepStep(points, null, rule), expected, name);
});

test('the sweep stops at the highest level to try and when the next instance would not fit the memory budget', () => {
  const memory: MemoryModel = { baseBytes: 100 * MB, perInstanceBytes: 25 * MB, method: 'fit' };
  const table: [string, number, number, ReturnType<typeof nextSweepStep>][] = [
    ['fits', 2, 200 * MB, { next: 3 }], // level 3: 175 MB
    ['exactly fits', 3, 200 * MB, { next: 4 }], // level 4: 200 MB
    ['does not fit', 4, 200 * MB, { stop: 'level 5 would need about 225 MB, over the memory budget of 200 MB' }],
    ['max level', 4, Infinity, { stop: 'reached the highest level to try (4)' }],
  ];
  for (const [name, levels, budget, expected] of table) {
    const rule = { ...DEFAULT_SWEEP_RULE, maxLevel: name === 'max level' ? 4 : 16, memoryBudgetBytes: budget };
    assert.deepEqual(
      nextSweepStep(curve(...Array.from({ length: levels }, (_, i) => 100 * (i + 1))), memory, rule),
      expected,
      name,
    );
  }
});
