import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestQueue } from '../../src/scheduler/index.js';
import { pickInstance } from '../../src/scheduler/index.js';

const item = (n: number) => ({ n, settled: false });

test('the queue is FIFO and reports full at its limit', () => {
  const q = new RequestQueue<ReturnType<typeof item>>(3);
  [1, 2, 3].forEach((n) => q.push(item(n)));
  assert.equal(q.full, true);
  assert.deepEqual([q.shift()?.n, q.shift()?.n], [1, 2]);
  assert.equal(q.full, false);
  assert.equal(q.size, 1);
});

test('an item that settled while waiting stops counting at once and is skipped', () => {
  const q = new RequestQueue<ReturnType<typeof item>>(2);
  const a = item(1);
  q.push(a);
  q.push(item(2));
  a.settled = true;
  q.forget();
  assert.equal(q.size, 1);
  assert.equal(q.full, false);
  assert.equal(q.shift()?.n, 2);
  assert.equal(q.shift(), undefined);
  assert.equal(q.size, 0);
});

test('a limit of 0 means unbounded, and long runs stay correct across compaction', () => {
  const q = new RequestQueue<ReturnType<typeof item>>(0);
  for (let i = 0; i < 5000; i++) q.push(item(i));
  assert.equal(q.full, false);
  for (let i = 0; i < 4000; i++) assert.equal(q.shift()?.n, i);
  for (let i = 5000; i < 6000; i++) q.push(item(i));
  const rest = q.drainAll().map((x) => x.n);
  assert.equal(rest.length, 2000);
  assert.equal(rest[0], 4000);
  assert.equal(rest.at(-1), 5999);
});

test('pickInstance takes the ready idle instance that has been idle longest', () => {
  const instances = [
    { name: 'busy', state: 'ready', busy: true, idleSince: 1 },
    { name: 'loading', state: 'loading', busy: false, idleSince: 0 },
    { name: 'recent', state: 'ready', busy: false, idleSince: 50 },
    { name: 'oldest', state: 'ready', busy: false, idleSince: 10 },
  ];
  assert.equal(pickInstance(instances)?.name, 'oldest');
  assert.equal(pickInstance(instances.slice(0, 2)), null);
});
