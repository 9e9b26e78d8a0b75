import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';
import type { TenancyError } from '../../src/index.js';
import { fakeScheduler } from './fake-instances.js';

test(
  'a request whose deadline passes while queued gets TIMEOUT at that moment ' + 'and takes no slot in the next batch',
  async () => {
    const { request, instances, clock, scheduler } = fakeScheduler({ max_batch_size: 64, dynamic_batching: {} });
    const [instance] = instances;
    request(64);
    const a = request(1);
    const late = request(1, { timeoutMs: 3 });
    const b = request(1);
    clock.advance(2.5);
    assert.equal(late.settled, false);
    clock.advance(0.5);
    assert.equal(late.error?.code, 'TIMEOUT');
    assert.match(late.error!.message, /request to model "m" timed out after 3 ms while queued/);
    assert.equal(scheduler.queued, 2, 'it left the queue');
    await instance.resolveNext();
    assert.deepEqual(instance.sent[1].seqs, [a.seq, b.seq], 'the next batch held the 2 live requests');
    await instance.resolveNext();
    assert.ok(a.ownRows && b.ownRows);
    assert.equal(late.ends.length, 1);
  },
);

test(
  'a request whose deadline passes while running gets TIMEOUT at that moment; ' + 'its late result is dropped',
  async () => {
    const { request, instances, clock, scheduler, executions } = fakeScheduler({
      max_batch_size: 8,
      dynamic_batching: {},
    });
    const [instance] = instances;
    const slow = request(8, { timeoutMs: 10 });
    clock.advance(10);
    assert.equal(slow.error?.code, 'TIMEOUT');
    assert.match(slow.error!.message, /timed out after 10 ms while running/);
    assert.equal(scheduler.inflight, 1, 'its run still counts as in flight');
    await instance.resolveNext();
    assert.equal(slow.ends.length, 1, 'the result that came after is dropped');
    assert.deepEqual(executions, [8], 'the execution still counts');
    assert.equal(scheduler.inflight, 0);
  },
);

test(
  'a request without its own timeout gets its level default_timeout; ' +
    'its own replaces it only with allow_timeout_override',
  async () => {
    const policy = (override: boolean) => ({
      max_batch_size: 8,
      parameters: { pipeline_depth: { string_value: '1' } },
      dynamic_batching: {
        default_queue_policy: { default_timeout_microseconds: 5000, allow_timeout_override: override },
      },
    });
    const open = fakeScheduler(policy(true));
    open.request(8, { timeoutMs: 0 }); // runs, and holds the instance (pipeline depth 1)
    const byDefault = open.request(1);
    const ownLonger = open.request(1, { timeoutMs: 20 });
    const ownNone = open.request(1, { timeoutMs: 0 });
    open.clock.advance(5);
    assert.deepEqual(open.endings, [byDefault], 'the default 5 ms');
    open.clock.advance(15);
    assert.deepEqual(open.endings, [byDefault, ownLonger], 'its own 20 ms');
    open.clock.advance(1_000_000);
    assert.equal(ownNone.settled, false, 'timeout 0: none');

    const closed = fakeScheduler(policy(false));
    closed.request(8, { timeoutMs: 0 });
    const ignored = closed.request(1, { timeoutMs: 20 });
    closed.clock.advance(5);
    assert.match(ignored.error!.message, /timed out after 5 ms while queued/, 'the default, whatever it asked for');
  },
);

test('with timeout_action DELAY a late queued request is served after the others instead of failing', async () => {
  const policy = { timeout_action: 'DELAY', default_timeout_microseconds: 2000 };
  const { request, instances, clock } = fakeScheduler({
    max_batch_size: 64,
    dynamic_batching: { default_queue_policy: policy, preferred_batch_size: [1] },
  });
  const [instance] = instances;
  // Two blockers: one runs, the other is sent ahead (pipeline depth 2), so the rest queue here.
  request(64);
  request(64);
  const late = request(1);
  clock.advance(2);
  const onTime = request(1, { timeoutMs: 0 });
  assert.equal(late.settled, false, 'its deadline passed: it moved behind the others, not failed');
  await instance.resolveNext();
  await instance.resolveNext();
  assert.deepEqual(
    instance.sent.slice(2).map((r) => r.seqs[0]),
    [onTime.seq, late.seq],
    'the request still within its deadline went first',
  );
  await instance.resolveNext();
  await instance.resolveNext();
  assert.ok(late.ownRows && onTime.ownRows);
});

test('with timeout_action DELAY a request whose deadline passes while running runs on', async () => {
  const policy = { timeout_action: 'DELAY', default_timeout_microseconds: 2000 };
  const { request, instances, clock } = fakeScheduler({
    max_batch_size: 8,
    dynamic_batching: { default_queue_policy: policy },
  });
  const running = request(8);
  clock.advance(10);
  assert.equal(running.settled, false);
  await instances[0].resolveNext();
  assert.ok(running.ownRows);
});

test('a deadline past the 24.8 days setTimeout can wait fires at its moment, neither at once nor by polling', () => {
  const { request, clock } = fakeScheduler({ max_batch_size: 8 }, 0);
  const days50 = 50 * 24 * 3600 * 1000;
  const far = request(1, { timeoutMs: days50 });
  clock.advance(days50 - 1);
  assert.equal(far.settled, false);
  clock.advance(1);
  assert.equal(far.error?.code, 'TIMEOUT');
});

// End to end on the real classifier: a deadline that passes while a real run holds the instance.
test(
  'a request that times out while queued behind a real run gets TIMEOUT ' + 'and takes no slot in the next batch',
  async () => {
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
  },
);
