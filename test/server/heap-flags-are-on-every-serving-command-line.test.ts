import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { HEAP_FLAGS, missingHeapFlags } from '../../src/server/heap-flags.js';

const root = new URL('../../', import.meta.url);

test('bin/tenancy.js, npm start, npm run bench:serve and bench:loopback-floor start node with every heap flag', () => {
  const shebang = readFileSync(new URL('bin/tenancy.js', root), 'utf8').split('\n')[0];
  const scripts = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts as Record<string, string>;
  for (const [where, line] of [
    ['bin/tenancy.js', shebang],
    ['npm start', scripts.start],
    ['npm run bench:serve', scripts['bench:serve']],
    ['npm run bench:loopback-floor', scripts['bench:loopback-floor']],
  ]) {
    const args = line.split(/\s+/);
    assert.deepEqual(missingHeapFlags(args), [], `${where}: ${line}`);
  }
});

test('missingHeapFlags names exactly the flags a command line lacks', () => {
  assert.deepEqual(missingHeapFlags([]), [...HEAP_FLAGS]);
  assert.deepEqual(missingHeapFlags([HEAP_FLAGS[0], '--import', 'tsx']), HEAP_FLAGS.slice(1));
  assert.deepEqual(missingHeapFlags([...HEAP_FLAGS]), []);
});

test('this node accepts the flags and sizes the young generation by them', () => {
  const probe =
    'console.log(require("v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size)';
  const withFlags = Number(execFileSync(process.execPath, [...HEAP_FLAGS, '-e', probe], { encoding: 'utf8' }));
  const without = Number(execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' }));
  assert.equal(withFlags, 16 * 2 ** 20, 'a 16 MiB semi-space');
  assert.ok(without < withFlags, `default young generation ${without} bytes is smaller`);
});
