import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyPool } from '../../src/protocol/body-pool.js';

test('a given-back body is reused by the next take of a fitting size', () => {
  const pool = new BodyPool(1 << 20);
  const a = pool.take(1000, 3);
  assert.equal(a.byteOffset, 3);
  pool.give(a);
  const b = pool.take(900);
  assert.equal(b.buffer, a.buffer, 'same memory, no new allocation');
  assert.equal(pool.take(900).buffer === a.buffer, false, 'a buffer is handed out once');
});

test("a pool full of an earlier workload's sizes makes room for the current one", () => {
  const pool = new BodyPool(4000);
  // Earlier workload: large bodies fill the pool.
  const big = [pool.take(1000), pool.take(1000), pool.take(1000), pool.take(1000)];
  for (const b of big) pool.give(b);
  assert.equal(pool.heldBytes, 4000);
  // Current workload: bodies of 300 bytes, which a 1000-byte buffer does not serve (over twice the size).
  const first = pool.take(300);
  pool.give(first);
  assert.ok(pool.heldBytes <= 4000, `held ${pool.heldBytes}`);
  const next = pool.take(300);
  assert.equal(next.buffer, first.buffer, 'the current size was kept (an old large buffer left instead)');
});

test('give ignores what take did not hand out, a second give, and buffers larger than the pool', () => {
  const pool = new BodyPool(100);
  pool.give(Buffer.alloc(10));
  pool.give('not a buffer');
  const huge = pool.take(500);
  pool.give(huge);
  assert.equal(pool.heldBytes, 0);
  const x = pool.take(50);
  pool.give(x);
  pool.give(x);
  assert.equal(pool.heldBytes, 50);
});
