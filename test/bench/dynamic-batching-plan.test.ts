import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dynamicBatchingPlan } from '../../src/bench/experiment-batch.js';

test('the dynamic batching sweep covers max batch sizes the model allows times queue delays', () => {
  assert.deepEqual(dynamicBatchingPlan(8, [4, 8, 16], [0, 1000]), [
    { maxBatchSize: 4, delayUs: 0 },
    { maxBatchSize: 4, delayUs: 1000 },
    { maxBatchSize: 8, delayUs: 0 },
    { maxBatchSize: 8, delayUs: 1000 },
  ]);
  assert.deepEqual(dynamicBatchingPlan(1), [], 'a model that cannot batch gets no dynamic batching settings');
  assert.deepEqual(dynamicBatchingPlan(0), []);
});
