import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';
import { fakeScheduler } from './fake-instances.js';

const delayed = (delayMs: number) => ({
  max_batch_size: 8,
  dynamic_batching: { max_queue_delay_microseconds: delayMs * 1000 },
});

test('a lone request waits for a fuller batch exactly max_queue_delay, then goes alone', async () => {
  const { request, instances, clock } = fakeScheduler(delayed(150));
  const [instance] = instances;
  const lone = request(1);
  clock.advance(149.5);
  assert.deepEqual(instance.batches, [], 'the idle instance is not sent a partial batch before the delay');
  clock.advance(0.5);
  assert.deepEqual(instance.batches, [1]);
  assert.equal(lone.req.dispatchedAt! - lone.req.receivedAt, 150, 'queue time: exactly the delay');
});

test(
  'a request arriving during the delay joins the batch, ' + 'which goes when the oldest has waited the delay',
  async () => {
    const { request, instances, clock } = fakeScheduler(delayed(150));
    const [instance] = instances;
    const first = request(1);
    clock.advance(100);
    const second = request(2);
    clock.advance(49);
    assert.deepEqual(instance.batches, []);
    clock.advance(1);
    assert.deepEqual(instance.batches, [3], 'one batch, at 150 ms after the first arrived (not after the second)');
    assert.deepEqual(instance.sent[0].seqs, [first.seq, second.seq]);
  },
);

test('a full batch goes without waiting for the delay', async () => {
  const { request, instances } = fakeScheduler(delayed(150));
  const calls = Array.from({ length: 8 }, () => request(1));
  assert.deepEqual(instances[0].batches, [8]);
  assert.ok(calls.every((c) => c.req.dispatchedAt === c.req.receivedAt));
});

test(
  'a cancelled lone request leaves no partial-batch timer behind ' + '(it would hold the process for max_queue_delay)',
  async () => {
    const { request, clock } = fakeScheduler(delayed(60_000));
    const ac = new AbortController();
    const lone = request(1, { signal: ac.signal });
    assert.equal(clock.armed, 1, 'the lone request armed the delay timer');
    ac.abort();
    assert.equal(lone.error?.code, 'CANCELLED');
    assert.equal(clock.armed, 0, 'cancelling the last waiting request disarmed it');
  },
);

test('flush sends the partial batch waiting now at once; a request after it waits for its batch as usual', async () => {
  const { request, instances, clock, scheduler } = fakeScheduler(delayed(60_000));
  const [instance] = instances;
  request(1);
  scheduler.flush();
  assert.deepEqual(instance.batches, [1], 'sent without waiting out the delay');
  await instance.resolveNext();
  clock.advance(1);
  request(1);
  clock.advance(59_999);
  assert.deepEqual(instance.batches, [1], 'a later request waits for a fuller batch again');
  clock.advance(1);
  assert.deepEqual(instance.batches, [1, 1]);
});

test(
  'a flushed partial batch behind a busy instance goes the moment the instance frees, ' + 'not after the delay',
  async () => {
    const { request, instances, clock, scheduler } = fakeScheduler(delayed(60_000));
    const [instance] = instances;
    request(8);
    request(1);
    scheduler.flush();
    assert.deepEqual(instance.batches, [8], 'a partial batch is not sent ahead, flushed or not');
    clock.advance(1);
    await instance.resolveNext();
    assert.deepEqual(instance.batches, [8, 1]);
  },
);

// End to end: unloading and the server's shutdown (flushQueues) flush each model's scheduler.
test(
  'unloading sends a partial batch at once instead of waiting out max_queue_delay, ' + 'as flushQueues does',
  async () => {
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
        const unloaded = engine.unload(M);
        assert.deepEqual((await later).outputs['softmax_0.tmp_0'].shape, [1, 2], 'the unload flushed it');
        await unloaded;
      },
    );
  },
);
