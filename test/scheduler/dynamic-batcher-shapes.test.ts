import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeScheduler } from './fake-instances.js';

test('requests of different shapes are never merged into one batch; requests of the same shape are', async () => {
  const { request, instances } = fakeScheduler({ max_batch_size: 32, dynamic_batching: {} });
  const [instance] = instances;
  request(32); // keeps the one instance busy while the rest queue
  const [wide1, narrow1, wide2, narrow2] = [192, 96, 192, 96].map((width) => request(1, { width }));
  await instance.resolveNext();
  assert.deepEqual(instance.sent[1].seqs, [wide1.seq, wide2.seq], 'the oldest shape first, with its like');
  await instance.resolveNext();
  assert.deepEqual(instance.sent[2].seqs, [narrow1.seq, narrow2.seq]);
  await instance.resolveNext();
  assert.deepEqual(instance.batches, [32, 2, 2]);
  assert.ok([wide1, narrow1, wide2, narrow2].every((c) => c.ownRows));
});

test('requests asking for different outputs are never merged into one batch', async () => {
  const { request, instances } = fakeScheduler({ max_batch_size: 32, dynamic_batching: {} });
  const [instance] = instances;
  request(32);
  const all = request(1);
  const some = request(1, { outputs: ['x'] });
  const all2 = request(1);
  await instance.resolveNext();
  assert.deepEqual(instance.sent[1].seqs, [all.seq, all2.seq]);
  await instance.resolveNext();
  assert.deepEqual(instance.sent[2].seqs, [some.seq]);
  assert.deepEqual(instance.sent[2].outputs, ['x'], 'and the instance is asked for them');
});
