import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { pssBytes } from '../../src/bench/proportional-memory.js';

test('PSS of this process is positive and at most its RSS; a process that is not there has none', (t) => {
  if (!existsSync('/proc/self/smaps_rollup')) return t.skip('this kernel has no /proc/self/smaps_rollup');
  const pss = pssBytes();
  assert.ok(pss !== null && pss > 0, `PSS ${pss}`);
  assert.ok(pss <= process.memoryUsage.rss() * 1.05, `PSS ${pss} <= RSS ${process.memoryUsage.rss()}`);
  assert.equal(pssBytes(2 ** 22 + 12345), null);
});
