import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/index.js';
import { BatchBuffers, batchBuffers } from '../../src/runtime/batch-buffers.js';
import { classifierInput, classifierRepo, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

test('a batch buffer sent to a worker-thread instance comes back and carries the next batch of its size', async () => {
  const repo = await classifierRepo({ instance_group: [{ count: 1, kind: 'KIND_CPU' }] });
  const engine = new Engine({ repository: repo, cores: 2 });
  try {
    await engine.loadAll();
    const bytes = (classifierInput(3).data as Float32Array).byteLength;
    const first = await engine.infer(TEXT_ORIENTATION, { x: classifierInput(3, 1) });
    const held = batchBuffers.heldBytes;
    assert.ok(held >= bytes, `the worker handed the ${bytes}-byte batch back (held ${held})`);
    // The next batch of that size takes it: the pool shrinks by one buffer during the run, and the
    // answer is that of its own input, not the previous one.
    const second = await engine.infer(TEXT_ORIENTATION, { x: classifierInput(3, 2) });
    assert.equal(batchBuffers.heldBytes, held, 'taken for the second run and given back again');
    const again = await engine.infer(TEXT_ORIENTATION, { x: classifierInput(3, 1) });
    assert.deepEqual(
      Array.from(again.outputs['softmax_0.tmp_0'].data as Float32Array),
      Array.from(first.outputs['softmax_0.tmp_0'].data as Float32Array),
    );
    assert.notDeepEqual(
      Array.from(second.outputs['softmax_0.tmp_0'].data as Float32Array),
      Array.from(first.outputs['softmax_0.tmp_0'].data as Float32Array),
    );
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});

test('BatchBuffers reuses by exact size and keeps no more than its cap', () => {
  const pool = new BatchBuffers(3000);
  const a = pool.take(1000);
  assert.equal(a.byteLength, 1000);
  pool.give(a);
  assert.equal(pool.take(999).byteLength, 999, 'another size is a fresh buffer');
  assert.equal(pool.take(1000), a, 'the same size is the buffer given back');
  pool.give(new ArrayBuffer(2000));
  pool.give(new ArrayBuffer(2000));
  assert.equal(pool.heldBytes, 2000, 'the second 2000 bytes would pass the 3000-byte cap');
  const detached = new ArrayBuffer(8);
  structuredClone(detached, { transfer: [detached] });
  pool.give(detached);
  assert.equal(pool.heldBytes, 2000, 'a detached buffer is not kept');
});
