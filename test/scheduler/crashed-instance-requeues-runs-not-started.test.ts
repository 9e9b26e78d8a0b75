import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeScheduler } from './fake-instances.js';

test(
  'when an instance dies only its running request fails; ' +
    'the run sent ahead to it goes back to the queue and runs elsewhere',
  async () => {
    const { request, instances, scheduler } = fakeScheduler({ max_batch_size: 64 }, 2);
    const [victim, other] = instances;
    // Two running (one per instance), one sent ahead to each (pipeline depth 2), two queued.
    const calls = Array.from({ length: 6 }, () => request(64));
    assert.deepEqual(
      instances.map((i) => i.sent.map((r) => r.seqs[0])),
      [
        [calls[0].seq, calls[2].seq],
        [calls[1].seq, calls[3].seq],
      ],
    );
    await victim.crash();
    assert.equal(calls[0].error?.code, 'INSTANCE_FAILED', 'the running request failed');
    assert.equal(calls[2].settled, false, 'the one sent ahead never started: it did not fail');
    assert.equal(scheduler.queued, 3, 'it waits again, with the two that were queued');
    while (other.waiting.length > 0) await other.resolveNext();
    assert.deepEqual(
      other.sent.map((r) => r.seqs[0]).sort((a, b) => a - b),
      calls.slice(1).map((c) => c.seq),
      'the other instance ran all five',
    );
    assert.ok(
      calls.slice(1).every((c) => c.ownRows && c.instance === other.name),
      'and they succeeded',
    );
    assert.equal(victim.sent.length, 2, 'nothing more went to the failed instance');
    assert.equal(scheduler.queued + scheduler.inflight, 0);
  },
);

test('a merged batch that never started is merged and sent again as a whole', async () => {
  const { request, instances } = fakeScheduler({ max_batch_size: 8, dynamic_batching: {} }, 2);
  const [victim, other] = instances;
  request(8);
  request(8);
  const batch = [request(4), request(4)];
  assert.deepEqual(victim.sent[1].seqs, [batch[0].seq, batch[1].seq], 'a full batch sent ahead to the victim');
  await victim.crash();
  assert.ok(batch.every((c) => !c.settled));
  await other.resolveNext();
  assert.deepEqual(other.sent[1].seqs, [batch[0].seq, batch[1].seq], 'sent to the other instance as it freed');
  await other.resolveNext();
  assert.ok(batch.every((c) => c.ownRows && c.ends.length === 1));
});

test('a run that failed after it started fails its requests and is not tried again', async () => {
  const { request, instances, scheduler } = fakeScheduler(
    { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 1000 } },
    2,
  );
  const [failing, other] = instances;
  const batch = [request(4), request(4)];
  assert.deepEqual(failing.sent[0].seqs, [batch[0].seq, batch[1].seq]);
  await failing.fail(false);
  assert.ok(batch.every((c) => c.error?.code === 'INSTANCE_FAILED' && c.ends.length === 1));
  assert.match(batch[0].error!.message, /instance m:1#0 failed/);
  assert.deepEqual(other.sent, [], 'no retry elsewhere: it may have had effects');
  assert.equal(scheduler.queued, 0);
});

test('a run that never started does not bring back a request that ended meanwhile', async () => {
  const { request, instances, scheduler, clock } = fakeScheduler({ max_batch_size: 64 }, 2);
  const [victim, other] = instances;
  request(64);
  request(64);
  const ahead = request(64, { timeoutMs: 10 });
  const ac = new AbortController();
  const cancelled = request(64, { signal: ac.signal });
  assert.deepEqual([victim.inflight, other.inflight], [2, 2]);
  clock.advance(10);
  ac.abort();
  assert.equal(ahead.error?.code, 'TIMEOUT');
  assert.equal(cancelled.error?.code, 'CANCELLED');
  await victim.crash();
  await other.crash();
  assert.equal(scheduler.queued, 0, 'neither went back to the queue');
  assert.equal(ahead.ends.length + cancelled.ends.length, 2, 'each ended once');
});

test('requests go back to waiting while no instance is ready, and are sent when one becomes ready', async () => {
  const { request, instances, scheduler } = fakeScheduler({ max_batch_size: 64 }, 2);
  const [a, b] = instances;
  request(64);
  request(64);
  const ahead = [request(64), request(64)];
  await a.crash();
  await b.crash();
  assert.equal(scheduler.queued, 2, 'both runs sent ahead wait again');
  b.state = 'ready'; // as a replacement joining the pool
  scheduler.dispatch();
  assert.deepEqual(
    b.sent
      .slice(2)
      .map((r) => r.seqs[0])
      .sort((x, y) => x - y),
    ahead.map((c) => c.seq),
  );
});

// A defect this test found: RequestQueue.push of a request whose old entry was still ahead of the
// level's head made both entries "here", so waiting() yielded it twice. Entries now carry a ticket.
test('a request sent back to the queue is waiting there once: it is not merged into a batch with itself', async () => {
  const { request, instances, clock, executions } = fakeScheduler({ max_batch_size: 8, dynamic_batching: {} }, 2);
  const [victim, other] = instances;
  request(8);
  request(8);
  const back = request(4);
  const gone = request(4, { timeoutMs: 10 });
  assert.deepEqual(victim.sent[1].seqs, [back.seq, gone.seq], 'a full batch sent ahead to the victim');
  clock.advance(10); // one request of it ends (timeout, or a cancel) before its host dies
  await victim.crash();
  assert.deepEqual(other.batches, [8], 'the request that goes back is a partial batch: not sent ahead');
  await other.resolveNext();
  assert.deepEqual(other.batches, [8, 4], 'it runs alone, once');
  await other.resolveNext();
  assert.ok(back.ownRows);
  assert.deepEqual(executions, [8, 4]);
});
