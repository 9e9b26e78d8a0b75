import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errors } from '../../src/errors.js';
import { fakeScheduler } from './fake-instances.js';

test('cancelling a queued request fails it with CANCELLED at once and frees its place in the queue', () => {
  const { request, scheduler } = fakeScheduler({ max_batch_size: 8, queue_policy: { max_queue_size: 1 } }, 0);
  const ac = new AbortController();
  const cancelled = request(1, { signal: ac.signal });
  assert.throws(() => request(1), /queue is full: 1 requests waiting \(max_queue_size 1\)/);
  ac.abort();
  assert.equal(cancelled.error?.code, 'CANCELLED');
  assert.match(cancelled.error!.message, /request to model "m" was cancelled/);
  assert.equal(scheduler.queued, 0);
  request(1); // its place is free again
});

test(
  'cancelling a running request answers it now; ' + 'its late result is dropped and the instance is not freed early',
  async () => {
    const { request, instances, scheduler } = fakeScheduler({
      max_batch_size: 8,
      parameters: { pipeline_depth: { string_value: '1' } },
    });
    const [instance] = instances;
    const ac = new AbortController();
    const running = request(1, { signal: ac.signal });
    const next = request(1);
    ac.abort();
    assert.equal(running.error?.code, 'CANCELLED');
    assert.deepEqual(instance.batches, [1], 'the next request still waits for the instance');
    await instance.resolveNext();
    assert.equal(running.ends.length, 1);
    assert.deepEqual(instance.sent[1].seqs, [next.seq]);
    assert.equal(scheduler.inflight, 1);
  },
);

test('a request whose signal is already aborted is refused at once, and never queued', () => {
  const { request, scheduler } = fakeScheduler({ max_batch_size: 8 }, 0);
  assert.throws(() => request(1, { signal: AbortSignal.abort() }), /request to model "m" was cancelled/);
  assert.equal(scheduler.queued, 0);
});

test('failQueued fails every waiting request with the error given; running ones finish', async () => {
  const { request, instances, scheduler, clock } = fakeScheduler({
    max_batch_size: 8,
    dynamic_batching: { max_queue_delay_microseconds: 60_000_000, priority_levels: 2 },
  });
  const [instance] = instances;
  const running = request(8);
  const waiting = [request(1), request(1, { priority: 1 }), request(2)];
  assert.equal(clock.armed, 1, 'the partial batch waits on its delay timer');
  scheduler.failQueued(errors.modelNotReady('m', 'unavailable', 'every instance failed'));
  for (const c of waiting) {
    assert.equal(c.error?.code, 'UNAVAILABLE');
    assert.match(c.error!.message, /model "m" is not ready: it is unavailable \(every instance failed\)/);
  }
  assert.equal(scheduler.queued, 0);
  assert.equal(clock.armed, 0, 'nothing waits, so no timer either');
  assert.equal(running.settled, false);
  await instance.resolveNext();
  assert.ok(running.ownRows);
});

test('a full queue refuses with QUEUE_FULL naming the limit; the requests accepted still run', async () => {
  const { request, instances } = fakeScheduler({ max_batch_size: 8, queue_policy: { max_queue_size: 2 } });
  const [instance] = instances;
  // One runs, one is sent ahead (pipeline depth 2), two wait (max_queue_size 2), the fifth is refused.
  const accepted = [request(8), request(8), request(8), request(8)];
  assert.throws(
    () => request(8),
    (e: Error & { code?: string }) => e.code === 'QUEUE_FULL' && /max_queue_size 2/.test(e.message),
  );
  while (instance.waiting.length > 0) await instance.resolveNext();
  assert.ok(accepted.every((c) => c.ownRows));
});
