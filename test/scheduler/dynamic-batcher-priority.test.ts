import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

test('a high-priority request joins the next batch ahead of earlier low-priority ones', async () => {
  await withClassifierEngine(
    { max_batch_size: 32, dynamic_batching: { priority_levels: 2, default_priority_level: 2 } },
    async (engine) => {
      // Two blockers: one runs, the other waits in the instance (pipeline depth 2), so the rest queue here.
      const blocker = engine.infer(M, { x: classifierInput(32) });
      const blocker2 = engine.infer(M, { x: classifierInput(32) });
      const low1 = engine.infer(M, { x: classifierInput(16) });
      const low2 = engine.infer(M, { x: classifierInput(16) });
      const high = engine.infer(M, { x: classifierInput(16) }, { priority: 1 });
      const [, , l1, l2, h] = await Promise.all([blocker, blocker2, low1, low2, high]);
      assert.equal(
        h.timestamps.dispatched,
        l1.timestamps.dispatched,
        'high ran in the first batch after the blocker, with the oldest low request',
      );
      assert.ok(l2.timestamps.dispatched > h.timestamps.dispatched, 'the second low request waited for the next batch');
      await assert.rejects(
        engine.infer(M, { x: classifierInput(1) }, { priority: 3 }),
        /priority 3 is not valid for model "text_orientation": use 0 \(default\) or 1 to 2/,
      );
    },
  );
});
