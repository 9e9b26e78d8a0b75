import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestQueue, pickInstance } from '../../src/scheduler/index.js';

type Item = { n: number; queued: boolean; level: number };
const item = (n: number): Item => ({ n, queued: false, level: 0 });

test('the queue is FIFO within a level and reports full at its limit', () => {
  const q = new RequestQueue<Item>([3]);
  for (const n of [1, 2, 3]) q.push(item(n));
  assert.equal(q.isFull(0), true);
  assert.deepEqual([q.shift()?.n, q.shift()?.n], [1, 2]);
  assert.equal(q.isFull(0), false);
  assert.equal(q.size, 1);
});

test('higher levels are served first, and each level has its own limit', () => {
  const q = new RequestQueue<Item>([1, 0]);
  q.push(item(1), 1);
  q.push(item(2), 1);
  q.push(item(3), 0);
  assert.equal(q.isFull(0), true);
  assert.equal(q.isFull(1), false, 'level 1 is unbounded');
  assert.deepEqual(
    [...q.waiting()].map((i) => i.n),
    [3, 1, 2],
  );
  assert.deepEqual(
    q.drainAll().map((i) => i.n),
    [3, 1, 2],
  );
  assert.equal(q.size, 0);
});

test('a request removed while waiting stops counting at once and is skipped', () => {
  const q = new RequestQueue<Item>([2]);
  const a = item(1);
  q.push(a);
  q.push(item(2));
  q.remove(a);
  q.remove(a);
  assert.equal(q.size, 1, 'removing twice counts once');
  assert.equal(q.isFull(0), false);
  assert.equal(q.shift()?.n, 2);
  assert.equal(q.shift(), undefined);
  assert.equal(q.size, 0);
});

test('a limit of 0 means unbounded, and long runs stay correct across compaction', () => {
  const q = new RequestQueue<Item>([0]);
  for (let i = 0; i < 5000; i++) q.push(item(i));
  assert.equal(q.isFull(0), false);
  for (let i = 0; i < 4000; i++) assert.equal(q.shift()?.n, i);
  for (let i = 5000; i < 6000; i++) q.push(item(i));
  const rest = q.drainAll().map((x) => x.n);
  assert.equal(rest.length, 2000);
  assert.equal(rest[0], 4000);
  assert.equal(rest.at(-1), 5999);
});

test('pickInstance takes the ready idle instance that has been idle longest', () => {
  const instances = [
    { name: 'busy', state: 'ready', inflight: 1, idleSince: 1 },
    { name: 'loading', state: 'loading', inflight: 0, idleSince: 0 },
    { name: 'recent', state: 'ready', inflight: 0, idleSince: 50 },
    { name: 'oldest', state: 'ready', inflight: 0, idleSince: 10 },
  ];
  assert.equal(pickInstance(instances)?.name, 'oldest');
  assert.equal(pickInstance(instances, 2)?.name, 'oldest', 'an idle instance comes before a run ahead');
  assert.equal(pickInstance(instances.slice(0, 2)), null);
});

test('with pipeline depth 2, a busy instance takes one run ahead: the one whose run started first', () => {
  const instances = [
    { name: 'full', state: 'ready', inflight: 2, idleSince: 0 },
    { name: 'later', state: 'ready', inflight: 1, idleSince: 30 },
    { name: 'earlier', state: 'ready', inflight: 1, idleSince: 20 },
    { name: 'draining', state: 'draining', inflight: 0, idleSince: 0 },
  ];
  assert.equal(pickInstance(instances, 1), null, 'depth 1: no run ahead');
  assert.equal(pickInstance(instances, 2)?.name, 'earlier');
  assert.equal(pickInstance(instances.slice(0, 1), 2), null, 'never more than depth runs on one instance');
});

test('a request moved to another level is served only from there', () => {
  const q = new RequestQueue<Item>([0, 0]);
  const a = item(1);
  q.push(a, 0);
  q.push(item(2), 0);
  q.remove(a);
  q.push(a, 1);
  assert.deepEqual(
    [...q.waiting()].map((i) => i.n),
    [2, 1],
  );
  assert.equal(q.size, 2);
});
