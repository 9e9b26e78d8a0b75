import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

test('merged batches give every request exactly its own rows, equal to unbatched results', async () => {
  await withClassifierEngine(
    { max_batch_size: 16, dynamic_batching: { max_queue_delay_microseconds: 100_000, preferred_batch_size: [8] } },
    async (engine) => {
      const inputs = Array.from({ length: 8 }, (_, i) => classifierInput(i % 3 === 0 ? 2 : 1, 100 + i));
      // Reference: one at a time, each alone in its batch (the delay passes before anything else arrives).
      const alone = [];
      for (const x of inputs.slice(0, 2)) alone.push(await engine.infer(M, { x }));
      const before = engine.stats(M)[0];
      const merged = await Promise.all(inputs.map((x) => engine.infer(M, { x })));
      const after = engine.stats(M)[0];
      const executions = after.execution_count - before.execution_count;
      assert.ok(executions < inputs.length, `${inputs.length} requests ran in ${executions} executions`);
      assert.equal(after.inference_count - before.inference_count, 11, 'rows counted: 3 requests of 2 + 5 of 1');
      assert.ok(
        after.batch_stats.some((b) => b.batch_size >= 8),
        `a batch of 8 or more rows: ${JSON.stringify(after.batch_stats.map((b) => b.batch_size))}`,
      );
      for (const [i, r] of merged.entries()) {
        const out = r.outputs['softmax_0.tmp_0'];
        assert.deepEqual(out.shape, [inputs[i].shape[0], 2], `request ${i} has its own rows`);
      }
      for (const [i, ref] of alone.entries()) {
        const a = ref.outputs['softmax_0.tmp_0'].data as Float32Array;
        const b = merged[i].outputs['softmax_0.tmp_0'].data as Float32Array;
        for (let k = 0; k < a.length; k++)
          assert.ok(Math.abs(a[k] - b[k]) < 1e-5, `request ${i} row value ${k}: ${a[k]} vs ${b[k]}`);
      }
      // And every merged request matches its own unbatched run.
      for (const [i, x] of inputs.entries()) {
        const ref = (await engine.infer(M, { x })).outputs['softmax_0.tmp_0'].data as Float32Array;
        const got = merged[i].outputs['softmax_0.tmp_0'].data as Float32Array;
        assert.ok(
          ref.every((v, k) => Math.abs(v - got[k]) < 1e-5),
          `request ${i} equals its unbatched result`,
        );
      }
    },
  );
});
