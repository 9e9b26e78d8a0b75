import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelInstance } from '../../src/runtime/index.js';
import { fullCollection, IdleCollector, idleCollector } from '../../src/runtime/idle-gc.js';

/** A collector on a fake heap: `grow` adds bytes, each collection is recorded. */
function fake(options: { idleMs?: number; rounds?: number; minBytes?: number } = {}) {
  let heap = 0;
  const made: number[] = [];
  const c = new IdleCollector({
    idleMs: 30,
    rounds: 1,
    minBytes: 100,
    ...options,
    collect: () => made.push(heap),
    bytes: () => heap,
  });
  return { c, made, grow: (n: number) => (heap += n) };
}

test('it collects once the work has ended and stayed ended, never while work is in flight', async () => {
  const { c, made, grow } = fake();
  c.begin();
  grow(1000);
  await sleep(80);
  assert.equal(made.length, 0, 'not while a load or run is in flight');
  c.begin();
  c.end();
  await sleep(80);
  assert.equal(made.length, 0, 'not while another is still in flight');
  c.end();
  c.begin(); // new work before the idle time is up: the timer starts again after it
  c.end();
  await sleep(10);
  assert.equal(made.length, 0, 'not before the idle time has passed');
  await sleep(80);
  assert.equal(made.length, 1, 'once idle for the idle time');
  await sleep(80);
  assert.equal(made.length, 1, 'and once only: it waits for more work');
  assert.equal(c.inFlight, 0);
});

test('after work it collects in rounds while idle, and skips when the heap did not grow', async () => {
  const { c, made, grow } = fake({ rounds: 3, idleMs: 20 });
  grow(1000);
  await c.track(Promise.resolve());
  await sleep(150);
  assert.equal(made.length, 3, 'three rounds, as V8 shrinks its young generation over several');
  await c.track(Promise.resolve());
  await sleep(80);
  assert.equal(made.length, 3, 'no new garbage since the last collection: nothing to collect');
  grow(1000);
  await assert.rejects(c.track(Promise.reject(new Error('failed run'))), /failed run/);
  assert.equal(c.inFlight, 0, 'a failed run counts as ended too');
  await sleep(150);
  assert.equal(made.length, 6);
});

test("V8's full collection frees dead ArrayBuffers, without leaving gc() on the global object", async () => {
  const gc = fullCollection();
  assert.ok(gc, 'V8 gives its collection');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'the flag was set only for a moment');
  const before = process.memoryUsage().arrayBuffers;
  (() => {
    const dead = new Uint8Array(64 * 2 ** 20).fill(1);
    assert.equal(dead[0], 1);
  })();
  assert.ok(process.memoryUsage().arrayBuffers >= before + 64 * 2 ** 20);
  gc();
  await sleep(50);
  assert.ok(process.memoryUsage().arrayBuffers < before + 8 * 2 ** 20, 'the 64 MiB are given back');
});

test("an instance's load and runs count as work of the engine thread's collector", async () => {
  const inst = new ModelInstance({
    name: 'sim:1#0',
    file: 'unused.onnx',
    warmup: [],
    session: { intraOpThreads: 1, interOpThreads: 1, spinning: false, executionProviders: ['cpu'] },
    device: 'sim:test',
    simulated: {
      latencyMs: 100,
      batches: true,
      inputs: [{ name: 'x', datatype: 'FP32', dims: [-1, 2] }],
      outputs: [{ name: 'y', datatype: 'FP32', dims: [2] }],
    },
  });
  try {
    const started = inst.start();
    assert.equal(idleCollector.inFlight, 1, 'loading');
    await started;
    assert.equal(idleCollector.inFlight, 0);
    const run = inst.run({ x: { datatype: 'FP32', shape: [1, 2], data: new Float32Array(2) } });
    assert.equal(idleCollector.inFlight, 1, 'running');
    await run;
    assert.equal(idleCollector.inFlight, 0, 'done');
  } finally {
    await inst.stop();
  }
});
