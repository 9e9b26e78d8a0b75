import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeScheduler } from './fake-instances.js';

const twoLevels = (extra: Record<string, unknown> = {}) => ({
  max_batch_size: 32,
  dynamic_batching: { priority_levels: 2, default_priority_level: 2, ...extra },
});

test('a high-priority request joins the next batch ahead of earlier low-priority ones', async () => {
  const { request, instances } = fakeScheduler(twoLevels());
  const [instance] = instances;
  // Two blockers: one runs, the other is sent ahead (pipeline depth 2), so the rest queue here.
  request(32);
  request(32);
  const low1 = request(16);
  const low2 = request(16);
  const high = request(16, { priority: 1 });
  assert.deepEqual(instance.batches, [32, 32]);
  await instance.resolveNext();
  assert.deepEqual(instance.sent[2].seqs, [high.seq, low1.seq], 'high first, then the oldest low request');
  await instance.resolveNext();
  await instance.resolveNext();
  assert.deepEqual(instance.sent[3].seqs, [low2.seq], 'the second low request waited for the next batch');
  await instance.resolveNext();
  assert.ok([low1, low2, high].every((c) => c.ownRows));
});

test(
  'a request without a priority goes to default_priority_level; ' +
    'one outside the levels is refused naming the range',
  () => {
    const { request } = fakeScheduler(twoLevels(), 0);
    assert.equal(request(1).req.level, 1, 'default_priority_level 2: the second queue');
    assert.equal(request(1, { priority: 1 }).req.level, 0);
    assert.throws(
      () => request(1, { priority: 3 }),
      /priority 3 is not valid for model "m": use 0 \(default\) or 1 to 2/,
    );
  },
);

test(
  'each priority level has its own queue limit: ' + 'a full level refuses with QUEUE_FULL, the others still accept',
  () => {
    const { request, scheduler } = fakeScheduler(
      twoLevels({ priority_queue_policy: { '1': { max_queue_size: 1 } }, default_queue_policy: { max_queue_size: 0 } }),
      0,
    );
    request(1, { priority: 1 });
    assert.throws(
      () => request(1, { priority: 1 }),
      (e: Error & { code?: string }) =>
        e.code === 'QUEUE_FULL' && /queue is full: 1 requests waiting \(max_queue_size 1\)/.test(e.message),
    );
    for (let i = 0; i < 100; i++) request(1, { priority: 2 });
    assert.equal(scheduler.queued, 101, 'max_queue_size 0: unbounded');
  },
);
