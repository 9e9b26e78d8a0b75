import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';
import { fakeScheduler } from './fake-instances.js';

test('a busy instance is sent one run ahead, never more than two; the next goes when one ends', async () => {
  const { request, instances, scheduler } = fakeScheduler({ max_batch_size: 64 });
  const [instance] = instances;
  const [a, b, c] = [request(64), request(64), request(64)];
  assert.deepEqual(instance.batches, [64, 64], 'the second was sent while the first runs');
  assert.equal(scheduler.queued, 1, 'the third waits here (depth 2)');
  await instance.resolveNext();
  assert.deepEqual(instance.sent[2].seqs, [c.seq], 'sent as the first ended, ahead of the second');
  await instance.resolveNext();
  await instance.resolveNext();
  assert.ok(a.ownRows && b.ownRows && c.ownRows);
});

test('pipeline_depth "1" turns it off: the next run is sent only when the instance is free', async () => {
  const { request, instances } = fakeScheduler({
    max_batch_size: 64,
    parameters: { pipeline_depth: { string_value: '1' } },
  });
  const [instance] = instances;
  request(64);
  request(64);
  assert.deepEqual(instance.batches, [64]);
  await instance.resolveNext();
  assert.deepEqual(instance.batches, [64, 64]);
});

test('an idle instance is sent the next request before a busy one is sent one ahead', () => {
  const { request, instances } = fakeScheduler({ max_batch_size: 64 }, 2);
  request(64);
  request(64);
  assert.deepEqual(
    instances.map((i) => i.batches),
    [[64], [64]],
  );
  request(64);
  request(64);
  request(64);
  assert.deepEqual(
    instances.map((i) => i.inflight),
    [2, 2],
    'then one ahead on each',
  );
});

test('with dynamic batching only a full batch is sent ahead; a partial one waits for the instance', async () => {
  const { request, instances } = fakeScheduler({ max_batch_size: 64, dynamic_batching: {} });
  const [instance] = instances;
  request(64);
  const partial = request(8);
  assert.deepEqual(instance.batches, [64], 'the 8-row batch was not sent ahead');
  await instance.resolveNext();
  assert.deepEqual(instance.batches, [64, 8], 'it went when the instance was free');
  request(64);
  assert.deepEqual(instance.batches, [64, 8, 64], 'a full batch is sent ahead');
  await instance.resolveNext();
  assert.ok(partial.ownRows);
});

// End to end on the real runtime: the run sent ahead waits in the host and starts as the current one ends.
// One instance, three requests at once, each long enough (64 rows) to overlap the others' sending.
const three = (engine: Parameters<Parameters<typeof withClassifierEngine>[1]>[0]) =>
  Promise.all([1, 2, 3].map((seed) => engine.infer(M, { x: classifierInput(64, seed) })));

test(
  'on a real session the run sent ahead starts as the current one ends, ' + 'and its wait in the host is queue time',
  async () => {
    await withClassifierEngine({ max_batch_size: 64 }, async (engine) => {
      const [a, b, c] = await three(engine);
      assert.ok(b.timestamps.dispatched < a.timestamps.computeEnd, 'the second was sent while the first ran');
      assert.ok(b.timestamps.computeStart >= a.timestamps.computeEnd, 'and ran after it, on the same session');
      assert.ok(
        b.timestamps.computeStart - a.timestamps.computeEnd < 5,
        `without a round trip between: ${(b.timestamps.computeStart - a.timestamps.computeEnd).toFixed(2)} ms`,
      );
      assert.ok(c.timestamps.dispatched >= a.timestamps.computeEnd, 'the third waited until the first ended (depth 2)');
      // The wait inside the instance is queue time, not compute_input.
      assert.ok(
        b.timing.queueMs >= a.timestamps.computeEnd - b.timestamps.dispatched - 0.5,
        `queue ${b.timing.queueMs.toFixed(2)} ms`,
      );
      assert.ok(b.timing.computeInputMs < b.timing.queueMs, `compute_input ${b.timing.computeInputMs.toFixed(2)} ms`);
    });
  },
);
