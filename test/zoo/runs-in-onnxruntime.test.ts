import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ZOO_NAMES, buildZooModel, zooArchitecture } from '../../src/zoo/index.js';
import { runModel } from './run-model.js';

for (const name of ZOO_NAMES) {
  test(`${name} at its smallest input size gives finite, varied [2, 1000] logits for a batch of 2`, async () => {
    const size = zooArchitecture(name).minInputSize;
    const model = buildZooModel(name, { inputSize: size });
    assert.deepEqual(model.inputShape, ['N', 3, size, size]);
    const run = await runModel(model.bytes, 2, size);
    assert.deepEqual(run.inputNames, ['input']);
    assert.deepEqual(run.outputNames, ['logits']);
    assert.deepEqual(run.dims, [2, 1000]);
    assert.ok(run.logits.every(Number.isFinite), `${name}: non-finite logits`);
    const first = run.logits[0]!;
    assert.ok(
      run.logits.some((v) => v !== first),
      `${name}: all logits equal ${first}`,
    );
    const spread = Math.max(...run.logits) - Math.min(...run.logits);
    assert.ok(spread > 1e-3 && spread < 1e3, `${name}: logit spread ${spread} is degenerate`);
    const sample0 = run.logits.subarray(0, 1000);
    const sample1 = run.logits.subarray(1000);
    assert.ok(
      sample0.some((v, i) => v !== sample1[i]),
      `${name}: both samples gave the same logits`,
    );
  });
}

test('batch size is dynamic: the same model runs batches of 1 and 3', async () => {
  const model = buildZooModel('mobilenet_v2', { inputSize: 32, widthMultiplier: 0.5 });
  assert.deepEqual((await runModel(model.bytes, 1, 32)).dims, [1, 1000]);
  assert.deepEqual((await runModel(model.bytes, 3, 32)).dims, [3, 1000]);
});
