import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';
import type { Tensor } from '../../src/index.js';

function widthInput(width: number, seed: number): Tensor {
  const base = classifierInput(1, seed);
  return { datatype: 'FP32', shape: [1, 3, 48, width], data: (base.data as Float32Array).slice(0, 3 * 48 * width) };
}

test('requests of different shapes are never merged into one batch', async () => {
  // The classifier's file has a dynamic width; the config lets it through.
  const input = [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, 48, -1] }];
  await withClassifierEngine({ max_batch_size: 32, input, dynamic_batching: {} }, async (engine) => {
    const blocker = engine.infer(M, { x: classifierInput(32) }); // keeps the one instance busy while the rest queue
    const mixed = [widthInput(192, 1), widthInput(96, 2), widthInput(192, 3), widthInput(96, 4)].map((x) =>
      engine.infer(M, { x }),
    );
    await blocker;
    const results = await Promise.all(mixed);
    for (const r of results) assert.deepEqual(r.outputs['softmax_0.tmp_0'].shape, [1, 2]);
    const sizes = engine.stats(M)[0].batch_stats.map((b) => b.batch_size);
    assert.ok(
      !sizes.includes(4) && !sizes.includes(3),
      `no batch mixes the widths: batch sizes ${JSON.stringify(sizes)}`,
    );
    assert.ok(sizes.includes(2), `same-width requests were merged: batch sizes ${JSON.stringify(sizes)}`);
  });
});
