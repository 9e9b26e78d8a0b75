import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withClassifierEngine } from '../fixtures/engine.js';
import { classifierInput, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

async function completionOrder(preserve: boolean): Promise<string[]> {
  const order: string[] = [];
  await withClassifierEngine(
    { max_batch_size: 64, instance_group: [{ count: 2 }], dynamic_batching: { preserve_ordering: preserve } },
    async (engine) => {
      // A big request on one instance, then a tiny one that the other instance finishes first.
      const big = engine.infer(M, { x: classifierInput(64) }).then(() => order.push('big'));
      const small = engine.infer(M, { x: classifierInput(1) }).then(() => order.push('small'));
      await Promise.all([big, small]);
    },
  );
  return order;
}

test('with preserve_ordering responses leave in arrival order; without it the faster one leaves first', async () => {
  assert.deepEqual(await completionOrder(true), ['big', 'small']);
  assert.deepEqual(
    await completionOrder(false),
    ['small', 'big'],
    'control: the small request really does finish first',
  );
});
