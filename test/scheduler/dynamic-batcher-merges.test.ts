import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';
import { fakeScheduler } from './fake-instances.js';

test(
  'requests that queue while the instance is busy go out together as one batch, ' + 'each getting exactly its own rows',
  async () => {
    const { request, instances, executions } = fakeScheduler({ max_batch_size: 8, dynamic_batching: {} });
    const [instance] = instances;
    const first = request(1);
    assert.deepEqual(instance.batches, [1], 'an idle instance takes the lone request at once (no queue delay)');
    const queued = [request(2), request(1), request(3)];
    assert.deepEqual(instance.batches, [1], 'a partial batch is not sent ahead to the busy instance');
    await instance.resolveNext();
    assert.deepEqual(instance.batches, [1, 6], 'the three waiting requests went as one batch of 6 rows');
    assert.deepEqual(
      instance.sent[1].seqs,
      queued.map((c) => c.seq),
      'in arrival order',
    );
    await instance.resolveNext();
    for (const c of [first, ...queued]) assert.ok(c.ownRows, `request ${c.seq} got exactly its own rows`);
    assert.deepEqual(executions, [1, 6], 'each execution reports the rows it ran');
  },
);

test('a batch stops at max_batch_size: the request that would overflow it waits for the next batch', async () => {
  const { request, instances } = fakeScheduler({ max_batch_size: 8, dynamic_batching: {} });
  const [instance] = instances;
  request(1);
  const [a, b, c] = [request(3), request(3), request(3)];
  assert.deepEqual(instance.batches, [1, 6], 'the third would overflow 6 rows: the batch is full and goes ahead');
  assert.deepEqual(instance.sent[1].seqs, [a.seq, b.seq]);
  await instance.resolveNext();
  assert.deepEqual(instance.batches, [1, 6], 'the 3 rows left are a partial batch: not sent ahead');
  await instance.resolveNext();
  assert.deepEqual(instance.batches, [1, 6, 3]);
  assert.deepEqual(instance.sent[2].seqs, [c.seq]);
  await instance.resolveNext();
  assert.ok(a.ownRows && b.ownRows && c.ownRows);
});

test('a batch reaching the largest preferred size goes at once, within max_queue_delay', async () => {
  const { request, instances, clock } = fakeScheduler({
    max_batch_size: 8,
    dynamic_batching: { preferred_batch_size: [2, 4], max_queue_delay_microseconds: 100_000 },
  });
  const [instance] = instances;
  for (let i = 0; i < 3; i++) request(1);
  assert.deepEqual(instance.batches, [], 'three rows: below the largest preferred size, they wait for more');
  request(1);
  assert.deepEqual(instance.batches, [4], 'the fourth completes a preferred batch, sent without waiting');
  await instance.resolveNext();
  request(1);
  clock.advance(99);
  assert.deepEqual(instance.batches, [4], 'a fifth, alone, waits for company');
  clock.advance(1);
  assert.deepEqual(instance.batches, [4, 1], 'until max_queue_delay has passed, then goes as it is');
});

test(
  'a batch past the largest preferred size is cut ' + 'to the longest run of requests that makes a preferred size',
  async () => {
    const { request, instances } = fakeScheduler({
      max_batch_size: 8,
      dynamic_batching: { preferred_batch_size: [2, 4] },
    });
    const [instance] = instances;
    request(8);
    const [a, b, c] = [request(1), request(1), request(1)];
    assert.deepEqual(instance.batches, [8], '3 rows waiting: not a preferred batch yet');
    const d = request(2);
    assert.deepEqual(instance.batches, [8, 2], 'rows 1, 2, 3, 5 pass 4 without making it: the first 2 rows go');
    assert.deepEqual(instance.sent[1].seqs, [a.seq, b.seq]);
    await instance.resolveNext();
    await instance.resolveNext();
    assert.deepEqual(instance.sent[2].seqs, [c.seq, d.seq], 'the rest follow');
  },
);

test("an instance is sent one fresh copy of the inputs, its buffers handed over, never the caller's own", async () => {
  const { request, instances } = fakeScheduler({ max_batch_size: 8, dynamic_batching: {} });
  const [instance] = instances;
  const alone = request(1);
  const merged = [request(1), request(2)];
  await instance.resolveNext();
  for (const [run, callers] of [
    [instance.sent[0], [alone]],
    [instance.sent[1], merged],
  ] as const) {
    const data = run.inputs.x.data as Float32Array;
    assert.deepEqual(run.transfer, [data.buffer], 'exactly the buffer of the tensor sent, to transfer');
    assert.equal(data.buffer.byteLength, run.rows * 2 * 4, 'of exactly its size');
    for (const c of callers) assert.notEqual(data.buffer, (c.req.inputs.x.data as Float32Array).buffer);
  }
});

// End to end on the real classifier: merged rows compute what unbatched ones do.
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
