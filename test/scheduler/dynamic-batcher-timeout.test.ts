import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';
import type { TenancyError } from '../../src/index.js';

test('a request that times out while queued gets TIMEOUT and takes no slot in the next batch', async () => {
  await withClassifierEngine({ max_batch_size: 64, dynamic_batching: {} }, async (engine) => {
    const blocker = engine.infer(M, { x: classifierInput(64) });
    const a = engine.infer(M, { x: classifierInput(1) });
    const late = engine.infer(M, { x: classifierInput(1) }, { timeoutMs: 3 });
    const b = engine.infer(M, { x: classifierInput(1) });
    await assert.rejects(
      late,
      (e: TenancyError) => e.code === 'TIMEOUT' && /timed out after 3 ms while queued/.test(e.message),
    );
    await Promise.all([blocker, a, b]);
    const sizes = engine.stats(M)[0].batch_stats.map((s) => s.batch_size);
    assert.ok(
      sizes.includes(2) && !sizes.includes(3),
      `the next batch held the 2 live requests: ${JSON.stringify(sizes)}`,
    );
  });
});

test('with timeout_action DELAY a late queued request is served after the others instead of failing', async () => {
  const policy = { timeout_action: 'DELAY', default_timeout_microseconds: 2000 };
  await withClassifierEngine(
    { max_batch_size: 64, dynamic_batching: { default_queue_policy: policy, preferred_batch_size: [1] } },
    async (engine) => {
      // Two blockers: one runs, the other waits in the instance (pipeline depth 2), so the rest queue here.
      const blockers = [engine.infer(M, { x: classifierInput(64) }), engine.infer(M, { x: classifierInput(64) })];
      const late = engine.infer(M, { x: classifierInput(1) });
      await new Promise((r) => setTimeout(r, 10)); // the late one's deadline passes while the blockers run
      const onTime = engine.infer(M, { x: classifierInput(1) }, { timeoutMs: 0 });
      const [, , l, o] = await Promise.all([...blockers, late, onTime]);
      assert.ok(o.timestamps.dispatched < l.timestamps.dispatched, 'the request still within its deadline went first');
    },
  );
});
