import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitThreads, type ThreadRequest } from '../../src/runtime/index.js';

const table: [string, number, ThreadRequest[], number, Record<string, number[]>][] = [
  ['one instance takes every core', 4, [{ key: 'a', instances: 1 }], 0, { a: [4] }],
  [
    'two models share evenly',
    4,
    [
      { key: 'a', instances: 1 },
      { key: 'b', instances: 1 },
    ],
    0,
    { a: [2], b: [2] },
  ],
  ['leftover cores go to the first instances', 5, [{ key: 'a', instances: 2 }], 0, { a: [3, 2] }],
  [
    'more instances than cores: one thread each',
    2,
    [
      { key: 'a', instances: 2 },
      { key: 'b', instances: 1 },
    ],
    0,
    { a: [1, 1], b: [1] },
  ],
  [
    'a fixed count is kept, the rest share what is left',
    4,
    [
      { key: 'a', instances: 1, fixed: 2 },
      { key: 'b', instances: 2 },
    ],
    0,
    { a: [2], b: [1, 1] },
  ],
  ['cores already used by loaded models are not handed out again', 4, [{ key: 'a', instances: 1 }], 3, { a: [1] }],
];

for (const [what, cores, requests, used, expected] of table) {
  test(`thread budget: ${what}`, () => {
    const got = Object.fromEntries(splitThreads(cores, requests, used));
    assert.deepEqual(got, expected);
  });
}

test('thread budget: the sum never exceeds the cores while there are no more instances than cores', () => {
  for (let cores = 1; cores <= 16; cores++) {
    for (let a = 1; a <= 4; a++) {
      for (let b = 0; b <= 4; b++) {
        if (a + b > cores) continue;
        const reqs = [{ key: 'a', instances: a }, ...(b ? [{ key: 'b', instances: b }] : [])];
        const total = [...splitThreads(cores, reqs).values()].flat().reduce((s, t) => s + t, 0);
        assert.ok(total <= cores && total >= cores - 0, `cores ${cores}, instances ${a}+${b}: ${total} threads`);
      }
    }
  }
});
