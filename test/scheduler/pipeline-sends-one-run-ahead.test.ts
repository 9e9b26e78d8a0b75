import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

// One instance, three requests at once, each long enough (64 rows) to overlap the others' sending.
const three = (engine: Parameters<Parameters<typeof withClassifierEngine>[1]>[0]) =>
  Promise.all([1, 2, 3].map((seed) => engine.infer(M, { x: classifierInput(64, seed) })));

test('a busy instance is sent the next run ahead, which starts as the current one ends; never more than two', async () => {
  await withClassifierEngine({ max_batch_size: 64 }, async (engine) => {
    const [a, b, c] = await three(engine);
    assert.ok(b.timestamps.dispatched < a.timestamps.computeEnd, 'the second was sent while the first ran');
    assert.ok(b.timestamps.computeStart >= a.timestamps.computeEnd, 'and ran after it, on the same session');
    assert.ok(
      b.timestamps.computeStart - a.timestamps.computeEnd < 5,
      `without a round trip between: ${(b.timestamps.computeStart - a.timestamps.computeEnd).toFixed(2)} ms`,
    );
    assert.ok(c.timestamps.dispatched >= a.timestamps.computeEnd, 'the third waited until the first ended (depth 2)');
    // The wait inside the instance is queue time, not compute_input.
    assert.ok(
      b.timing.queueMs >= a.timestamps.computeEnd - b.timestamps.dispatched - 0.5,
      `queue ${b.timing.queueMs.toFixed(2)} ms`,
    );
    assert.ok(b.timing.computeInputMs < b.timing.queueMs, `compute_input ${b.timing.computeInputMs.toFixed(2)} ms`);
  });
});

test('pipeline_depth "1" turns it off: the next run is sent only when the instance is free', async () => {
  await withClassifierEngine(
    { max_batch_size: 64, parameters: { pipeline_depth: { string_value: '1' } } },
    async (engine) => {
      const [a, b] = await three(engine);
      assert.ok(b.timestamps.dispatched >= a.timestamps.computeEnd, 'the second was sent after the first ended');
    },
  );
});

test('with dynamic batching only a full batch is sent ahead; a partial one waits for the instance', async () => {
  await withClassifierEngine({ max_batch_size: 64, dynamic_batching: {} }, async (engine) => {
    const blocker = engine.infer(M, { x: classifierInput(64) });
    const partial = engine.infer(M, { x: classifierInput(8) });
    const [first, second] = await Promise.all([blocker, partial]);
    assert.ok(second.timestamps.dispatched >= first.timestamps.computeEnd, 'the 8-row batch was not sent ahead');
    const sizes = engine
      .stats(M)[0]
      .batch_stats.map((s) => s.batch_size)
      .sort((x, y) => x - y);
    assert.deepEqual(sizes, [8, 64]);
  });
});
