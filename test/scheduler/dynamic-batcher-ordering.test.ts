import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeScheduler } from './fake-instances.js';

/** A big request on one instance, then a small one on the other, which ends first. */
async function endingOrder(preserve: boolean): Promise<string[]> {
  const { request, instances, endings } = fakeScheduler(
    { max_batch_size: 8, dynamic_batching: { preserve_ordering: preserve } },
    2,
  );
  const big = request(8);
  const small = request(1);
  assert.deepEqual(
    instances.map((i) => i.batches),
    [[8], [1]],
    'one request on each instance',
  );
  await instances[1].resolveNext();
  const afterSmall = endings.length;
  await instances[0].resolveNext();
  assert.ok(big.ownRows && small.ownRows);
  return [`${afterSmall} ended when the small run did`, ...endings.map((c) => (c === big ? 'big' : 'small'))];
}

test('with preserve_ordering responses leave in arrival order; without it the faster one leaves first', async () => {
  assert.deepEqual(await endingOrder(true), ['0 ended when the small run did', 'big', 'small']);
  assert.deepEqual(
    await endingOrder(false),
    ['1 ended when the small run did', 'small', 'big'],
    'control: the small request really does end first',
  );
});

test('with preserve_ordering an earlier request that fails or times out lets the later ones leave', async () => {
  const { request, instances, endings, clock } = fakeScheduler(
    { max_batch_size: 8, dynamic_batching: { preserve_ordering: true } },
    3,
  );
  const failing = request(8);
  const late = request(8, { timeoutMs: 50 });
  const small = request(1);
  await instances[2].resolveNext();
  assert.equal(endings.length, 0, 'the small response waits behind the two earlier requests');
  await instances[0].fail();
  assert.deepEqual(endings, [failing], 'the first failed; the small one still waits for the second');
  clock.advance(50);
  assert.deepEqual(endings, [failing, late, small], 'the second timed out while running: the held response leaves');
  assert.equal(failing.error?.code, 'INSTANCE_FAILED');
  assert.equal(late.error?.code, 'TIMEOUT');
  assert.ok(small.ownRows);
  await instances[1].resolveNext();
  assert.equal(late.ends.length, 1, 'the late result of the timed-out request is dropped');
});
