import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeScheduler } from './fake-instances.js';

test(
  'setBatching changes batch sizes and queue delay in place: ' + 'what waits is judged by the new ones at once',
  async () => {
    const { request, instances, scheduler, clock } = fakeScheduler({
      max_batch_size: 16,
      dynamic_batching: { max_queue_delay_microseconds: 60_000_000 },
    });
    const [instance] = instances;
    request(1);
    request(1);
    clock.advance(10);
    assert.deepEqual(instance.batches, [], 'waiting out a 60 s delay');
    scheduler.setBatching({ maxBatchSize: 16, preferred: [], delayMs: 5, preserveOrdering: false });
    assert.deepEqual(instance.batches, [2], 'the new 5 ms delay has already passed: sent now');
    request(1);
    request(1);
    request(1);
    scheduler.setBatching({ maxBatchSize: 16, preferred: [2], delayMs: 5, preserveOrdering: false });
    assert.deepEqual(instance.batches, [2, 2], 'a new preferred size of 2: a full batch, sent ahead at once');
    await instance.resolveNext();
    await instance.resolveNext();
    assert.deepEqual(instance.batches, [2, 2], 'the one left waits out the new delay');
    clock.advance(4);
    assert.deepEqual(instance.batches, [2, 2]);
    clock.advance(1);
    assert.deepEqual(instance.batches, [2, 2, 1]);
  },
);

test('setBatching cannot turn batching on or off, nor change preserve_ordering', async () => {
  const plain = fakeScheduler({ max_batch_size: 8 });
  plain.request(8);
  plain.request(1);
  plain.request(1);
  plain.scheduler.setBatching({ maxBatchSize: 8, preferred: [], delayMs: 0, preserveOrdering: false });
  await plain.instances[0].resolveNext();
  await plain.instances[0].resolveNext();
  assert.deepEqual(plain.instances[0].batches, [8, 1, 1], 'still one request per run');

  const ordered = fakeScheduler({ max_batch_size: 8, dynamic_batching: { preserve_ordering: true } }, 2);
  ordered.scheduler.setBatching(undefined);
  ordered.scheduler.setBatching({ maxBatchSize: 8, preferred: [], delayMs: 0, preserveOrdering: false });
  const first = ordered.request(8);
  const second = ordered.request(8);
  assert.deepEqual(
    ordered.instances.map((i) => i.batches),
    [[8], [8]],
    'still batching (one full batch each)',
  );
  await ordered.instances[1].resolveNext();
  assert.equal(second.settled, false, 'still in order: the second waits for the first');
  await ordered.instances[0].resolveNext();
  assert.deepEqual(ordered.endings, [first, second]);
});
