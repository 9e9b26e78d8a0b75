import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HillClimb,
  neighbours,
  pointKey,
  type TuningPoint,
  type TuningSpace,
} from '../../src/placement/tuning-search.js';

const start: TuningPoint = { instances: 2, threads: 1, batch: 4, delayUs: 0 };
const space: TuningSpace = { cores: 2, maxInstances: 4, maxBatch: 16, tuneInstances: true, tuneBatching: true };

/** Runs the climb against a throughput function, as the live tuner does with measured windows. */
function climb(score: (p: TuningPoint) => number, s: TuningSpace = space, from = start) {
  const h = new HillClimb(from, s);
  for (let p = h.next(); p; p = h.next()) h.report(p, score(p), score(h.incumbent));
  return h;
}

test(
  'neighbours are one step away, fit the cores and memory, ' + 'cheapest first, and only what the config left out',
  () => {
    const keys = neighbours(start, space).map((n) => `${n.move}: ${pointKey(n.point)}`);
    assert.deepEqual(keys, [
      'batch up: 2x1/b8/d0',
      'batch down: 2x1/b2/d0',
      'instance more: 3x1/b4/d0',
      'instance fewer: 1x1/b4/d0',
      'fewer, fatter instances: 1x2/b4/d0',
      'delay on: 2x1/b4/d500',
    ]);
    assert.deepEqual(
      neighbours({ instances: 4, threads: 1, batch: 16, delayUs: 4000 }, space).map((n) => pointKey(n.point)),
      ['4x1/b8/d4000', '3x1/b16/d4000', '2x2/b16/d4000', '4x1/b16/d0'],
      'no 5th instance (memory), no batch 32 (max_batch_size), no longer delay (limit)',
    );
    assert.ok(
      neighbours(start, { ...space, tuneBatching: false }).every((n) => n.point.batch === 4 && n.point.delayUs === 0),
      'batching stated by the config: never moved',
    );
    assert.ok(
      neighbours(start, { ...space, tuneInstances: false }).every(
        (n) => n.point.instances === 2 && n.point.threads === 1,
      ),
      'instances stated by the config: never moved',
    );
    assert.deepEqual(
      neighbours({ ...start, batch: 1 }, { ...space, maxBatch: 0 }).map((n) => n.move),
      ['instance more', 'instance fewer', 'fewer, fatter instances'],
      'a model that cannot batch: no batch or delay moves',
    );
  },
);

test('the climb reaches the optimum of a single-peaked surface in a fraction of the grid', () => {
  // Best at 3 instances x 1 thread, batch 8, no delay; every step away costs 10%.
  const best = { instances: 3, threads: 1, batch: 8, delayUs: 0 };
  const score = (p: TuningPoint) =>
    1000 *
    0.9 **
      (Math.abs(p.instances - best.instances) +
        Math.abs(Math.log2(p.threads)) +
        Math.abs(Math.log2(p.batch / best.batch)) +
        (p.delayUs > 0 ? 1 : 0));
  const h = climb(score);
  assert.deepEqual(h.incumbent, best);
  const grid = 4 * 2 * 5 * 4; // instances x threads x batch sizes x delays the space allows, roughly
  assert.ok(h.trials.length <= 12, `${h.trials.length} trials of a grid of ${grid}`);
});

test('a gain under minGain is noise, not a move; a flat surface settles on the start', () => {
  const flat = climb(() => 500);
  assert.deepEqual(flat.incumbent, start);
  assert.ok(flat.trials.every((t) => !t.accepted));
  const tiny = climb((p) => (p.batch === 8 ? 520 : 500)); // +4%: under the 5% gain
  assert.deepEqual(tiny.incumbent, start);
});

test(
  'a kind of move that lost clearly is not tried again from the next incumbent; ' +
    'a failed trial (score 0) is never taken',
  () => {
    // Fewer instances always loses 40%; batch 8 wins.
    const score = (p: TuningPoint) =>
      (p.instances < 2 ? 300 : 500) * (p.batch === 8 ? 1.2 : 1) * (p.instances > 2 ? 0 : 1);
    const h = climb(score);
    assert.deepEqual(h.incumbent, { ...start, batch: 8 });
    const fewer = h.trials.filter((t) => t.move === 'instance fewer');
    assert.equal(fewer.length, 1, 'tried once, from the start, then skipped');
    assert.ok(h.trials.filter((t) => t.point.instances > 2).every((t) => !t.accepted));
  },
);

test('the number of trials is bounded', () => {
  let n = 0;
  const h = new HillClimb(start, space, { maxTrials: 3 });
  for (let p = h.next(); p; p = h.next()) h.report(p, 1000 + ++n * 100, 1000); // every trial wins
  assert.equal(h.trials.length, 3);
  assert.equal(h.next(), null);
});
