import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeScheduler } from './fake-instances.js';

test('requests wait while no instance is ready and go to one the moment dispatch says it became ready', () => {
  const { request, instances, scheduler } = fakeScheduler({ max_batch_size: 8 }, 3);
  const [loading, draining, starting] = instances;
  loading.state = 'loading';
  draining.state = 'draining';
  starting.state = 'warming';
  const call = request(1);
  assert.equal(scheduler.queued, 1);
  assert.ok(
    instances.every((i) => i.sent.length === 0),
    'no instance that is not ready is sent a run',
  );
  starting.state = 'ready';
  scheduler.dispatch();
  assert.deepEqual(starting.sent[0].seqs, [call.seq]);
  assert.equal(scheduler.queued, 0);
});

test('the request goes to the instance idle longest, spreading the work', () => {
  const { request, instances, clock } = fakeScheduler({ max_batch_size: 8 }, 3);
  instances[0].idleSince = clock.now() - 1;
  instances[1].idleSince = clock.now() - 3;
  instances[2].idleSince = clock.now() - 2;
  request(1);
  request(1);
  assert.deepEqual(
    instances.map((i) => i.sent.length),
    [0, 1, 1],
  );
});

test('idle() resolves only once nothing waits and nothing runs', async () => {
  const { request, instances, scheduler } = fakeScheduler({
    max_batch_size: 8,
    parameters: { pipeline_depth: { string_value: '1' } },
  });
  const [instance] = instances;
  await scheduler.idle(); // idle at once when empty
  request(1);
  request(1);
  let idle = false;
  void scheduler.idle().then(() => (idle = true));
  await instance.resolveNext();
  assert.equal(idle, false, 'one still runs');
  await instance.resolveNext();
  assert.equal(idle, true);
});

test('idle() also resolves when the last request ends early (a timeout while queued)', async () => {
  const { request, scheduler, clock } = fakeScheduler({ max_batch_size: 8 }, 0);
  request(1, { timeoutMs: 5 });
  let idle = false;
  void scheduler.idle().then(() => (idle = true));
  clock.advance(5);
  await Promise.resolve();
  assert.equal(idle, true);
});
