import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildZooModel } from '../../src/zoo/index.js';
import { runModel } from './run-model.js';

test('the same seed gives byte-identical models', () => {
  const a = buildZooModel('resnet18', { inputSize: 32, seed: 42 });
  const b = buildZooModel('resnet18', { inputSize: 32, seed: 42 });
  assert.ok(Buffer.from(a.bytes).equals(Buffer.from(b.bytes)));
});

test('the default seed is 1', () => {
  const implicit = buildZooModel('squeezenet1_1', { inputSize: 32 });
  const explicit = buildZooModel('squeezenet1_1', { inputSize: 32, seed: 1 });
  assert.equal(implicit.options.seed, 1);
  assert.ok(Buffer.from(implicit.bytes).equals(Buffer.from(explicit.bytes)));
});

test('a different seed gives different weights and different outputs', async () => {
  const a = buildZooModel('squeezenet1_1', { inputSize: 32, seed: 1 });
  const b = buildZooModel('squeezenet1_1', { inputSize: 32, seed: 2 });
  assert.equal(a.bytes.byteLength, b.bytes.byteLength);
  assert.ok(!Buffer.from(a.bytes).equals(Buffer.from(b.bytes)));
  const ya = (await runModel(a.bytes, 2, 32)).logits;
  const yb = (await runModel(b.bytes, 2, 32)).logits;
  assert.ok(
    ya.some((v, i) => v !== yb[i]),
    'seeds 1 and 2 gave identical logits',
  );
});
