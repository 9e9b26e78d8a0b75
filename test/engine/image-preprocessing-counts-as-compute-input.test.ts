import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { examplePictures } from '../fixtures/images.js';
import { classifierInput, TEXT_ORIENTATION } from '../fixtures/repo.js';

test('an image request reports its preprocessing in timing and in the statistics compute_input', async () => {
  const { upright, flipped } = await examplePictures();
  await withClassifierEngine({}, async (engine) => {
    const stats = () => engine.stats(TEXT_ORIENTATION)[0].inference_stats;
    const tensor = await engine.infer(TEXT_ORIENTATION, { x: classifierInput(2) });
    const before = stats();
    const r = await engine.infer(TEXT_ORIENTATION, { x: { datatype: 'BYTES', shape: [2], data: [upright, flipped] } });
    const after = stats();
    assert.deepEqual(r.outputs['softmax_0.tmp_0'].shape, [2, 1 + 1]);
    // Decoding two PNGs costs far more than handing a ready tensor to the instance.
    assert.ok(
      r.timing.computeInputMs > tensor.timing.computeInputMs + 0.2,
      `${r.timing.computeInputMs} vs ${tensor.timing.computeInputMs}`,
    );
    const ms = (d: { ns: number }, b: { ns: number }) => (d.ns - b.ns) / 1e6;
    assert.ok(Math.abs(ms(after.compute_input, before.compute_input) - r.timing.computeInputMs) < 0.01);
    assert.ok(Math.abs(ms(after.success, before.success) - r.timing.totalMs) < 0.01);
    assert.ok(r.timing.totalMs >= r.timing.computeInputMs + r.timing.computeInferMs);
    assert.equal(after.compute_input.count - before.compute_input.count, 1);
  });
});
