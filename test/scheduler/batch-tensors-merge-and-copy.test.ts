import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactCopies, mergeInputs } from '../../src/scheduler/batch-tensors.js';
import { uninitialized } from '../../src/tensor.js';

test('mergeInputs concatenates rows into a buffer of its own, exactly the batch size (no stale bytes)', () => {
  // Dirty the allocator first: merged buffers start uninitialized, so every byte must be written.
  for (let i = 0; i < 4; i++) (uninitialized('FP32', 4096) as Float32Array).fill(-1);
  const a = {
    x: { datatype: 'FP32' as const, shape: [1, 3], data: new Float32Array([1, 2, 3]) },
    i: { datatype: 'INT64' as const, shape: [1, 1], data: new BigInt64Array([7n]) },
  };
  const b = {
    x: { datatype: 'FP32' as const, shape: [2, 3], data: new Float32Array([4, 5, 6, 7, 8, 9]) },
    i: { datatype: 'INT64' as const, shape: [2, 1], data: new BigInt64Array([8n, 9n]) },
  };
  const m = mergeInputs([a, b]);
  assert.deepEqual(m.x.shape, [3, 3]);
  assert.deepEqual([...(m.x.data as Float32Array)], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...(m.i.data as BigInt64Array)], [7n, 8n, 9n]);
  const x = m.x.data as Float32Array;
  assert.equal(x.byteOffset, 0);
  assert.equal(x.buffer.byteLength, 9 * 4, 'transferable: the buffer holds only this tensor');
});

test('exactCopies copies values into exact-size buffers; BYTES tensors pass through', () => {
  const backing = new Float32Array([0, 0, 1, 2, 3, 0]);
  const inputs = {
    x: { datatype: 'FP32' as const, shape: [1, 3], data: backing.subarray(2, 5) },
    s: { datatype: 'BYTES' as const, shape: [1], data: ['hi'] },
  };
  const c = exactCopies(inputs);
  const x = c.x.data as Float32Array;
  assert.deepEqual([...x], [1, 2, 3]);
  assert.equal(x.buffer.byteLength, 12);
  backing[2] = 42;
  assert.equal(x[0], 1, "a copy, not a view of the caller's buffer");
  assert.equal(c.s, inputs.s);
});

test('uninitialized gives n elements of the datatype over an ArrayBuffer of exactly that size', () => {
  const t = uninitialized('FP64', 5) as Float64Array;
  assert.ok(t instanceof Float64Array);
  assert.equal(t.length, 5);
  assert.equal(t.buffer.byteLength, 40);
  assert.deepEqual(uninitialized('BYTES', 2), ['', '']);
});
