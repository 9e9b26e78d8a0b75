import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preview } from '../src/preview.js';

test('small values read exactly as JSON.stringify writes them', () => {
  for (const v of [
    null,
    true,
    0,
    -1.5,
    'text',
    'a "quoted" \\ line\n',
    [],
    {},
    [1, -3, 48, 192],
    { a: 1, b: [true, null, 'x'], c: {} },
    [
      [1, 2],
      [3, [4]],
    ],
    { skip: undefined, keep: 1 },
    [undefined, 2],
  ])
    assert.equal(preview(v), JSON.stringify(v), JSON.stringify(v));
  assert.equal(preview(undefined), 'undefined');
  assert.equal(preview(12n), '12');
});

test('any depth or size costs only what is shown: at most max characters and an ellipsis', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  assert.equal(preview(deep, 10), '[[[[[[[[[[…');
  let objects: unknown = 1;
  for (let i = 0; i < 200_000; i++) objects = { a: objects };
  assert.equal(preview(objects, 12), '{"a":{"a":{"…');
  assert.equal(preview(new Array(10_000_000).fill(7), 9), '[7,7,7,7,…');
  assert.equal(preview('x'.repeat(1_000_000), 5), '"xxxx…');
  assert.equal(preview({ ['k'.repeat(1000)]: 1 }, 6), '{"kkkk…');
  assert.equal(preview(new Float32Array(4)), '<Float32Array of 16 bytes>');
});
