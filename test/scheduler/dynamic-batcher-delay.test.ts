import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

test('a lone request waits for a fuller batch no longer than max_queue_delay', async () => {
  const delayMs = 150;
  await withClassifierEngine(
    { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: delayMs * 1000 } },
    async (engine) => {
      const r = await engine.infer(M, { x: classifierInput(1) });
      assert.ok(r.timing.queueMs >= delayMs - 2, `it waited for the delay: ${r.timing.queueMs.toFixed(1)} ms`);
      assert.ok(r.timing.queueMs < delayMs + 250, `but not much longer: ${r.timing.queueMs.toFixed(1)} ms`);
      const full = await Promise.all(Array.from({ length: 8 }, () => engine.infer(M, { x: classifierInput(1) })));
      assert.ok(
        full.every((f) => f.timing.queueMs < delayMs),
        'a full batch goes without waiting for the delay',
      );
    },
  );
});

test('a cancelled lone request leaves no partial-batch timer behind (it would hold the process for max_queue_delay)', async () => {
  await withClassifierEngine(
    { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 60_000_000 } },
    async (engine) => {
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      const ac = new AbortController();
      const pending = engine.infer(M, { x: classifierInput(1) }, { signal: ac.signal });
      while (engine.loaded()[0].queued === 0) await new Promise((r) => setImmediate(r));
      assert.equal(timers(), before + 1, 'the lone request armed the delay timer');
      ac.abort();
      await assert.rejects(pending, /cancelled/);
      assert.equal(timers(), before, 'cancelling the last waiting request disarmed it');
    },
  );
});

test('unloading sends a partial batch at once instead of waiting out max_queue_delay; later requests wait as usual', async () => {
  await withClassifierEngine(
    { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 60_000_000 } },
    async (engine) => {
      const model = engine.loaded()[0];
      const waiting = engine.infer(M, { x: classifierInput(1) });
      while (model.queued === 0) await new Promise((r) => setImmediate(r));
      engine.flushQueues();
      const r = await waiting; // without the flush this waits 60 s and the test times out
      assert.deepEqual(r.outputs['softmax_0.tmp_0'].shape, [1, 2]);
      const later = engine.infer(M, { x: classifierInput(1) });
      while (model.queued === 0) await new Promise((r2) => setImmediate(r2));
      await new Promise((r2) => setTimeout(r2, 50));
      assert.equal(model.queued, 1, 'a request after the flush waits for its batch again');
      const unloaded = engine.unload(M);
      assert.deepEqual((await later).outputs['softmax_0.tmp_0'].shape, [1, 2], 'the unload flushed it');
      await unloaded;
    },
  );
});
