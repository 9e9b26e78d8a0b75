import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadGenerator, createInputSource } from '../../src/bench/index.js';
import { runClosedLoop } from '../../src/bench/closed-loop.js';
import { FakeTarget } from './fake-target.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a closed loop keeps exactly its concurrency of requests outstanding, and stop waits for them', async () => {
  const target = new FakeTarget(5);
  const inputs = await createInputSource(await target.metadata(), { kind: 'zero' });
  const gen = new LoadGenerator(target, 'fake', { mode: 'concurrency', concurrency: 3 }, inputs);
  gen.start();
  await sleep(100);
  assert.equal(target.outstanding, 3);
  await gen.stop();
  assert.equal(target.maxOutstanding, 3);
  assert.equal(target.outstanding, 0);
  const done = gen.take();
  assert.ok(done.length >= 30, `${done.length} requests in 100 ms at 5 ms each, 3 at a time`);
  assert.ok(done.every((c) => c.ok && c.latencyMs >= 4));
});

test('an open loop sends at its rate whatever the latency, so requests pile up when the target is slow', async () => {
  const target = new FakeTarget(20, 1); // serves 50 requests/s
  const inputs = await createInputSource(await target.metadata(), { kind: 'zero' });
  const gen = new LoadGenerator(target, 'fake', { mode: 'rate', rate: 200, distribution: 'constant' }, inputs);
  gen.start();
  await sleep(300);
  const sent = target.sent.length;
  assert.ok(sent >= 45 && sent <= 62, `sent ${sent} in 300 ms at 200/s`);
  assert.ok(target.outstanding > 30, `${target.outstanding} outstanding: the open loop did not wait for answers`);
  const gen2 = gen.stop();
  await gen2;
});

test('the shared closed loop keeps exactly N requests outstanding and returns when the last one ends', async () => {
  let outstanding = 0;
  let max = 0;
  const seen: number[] = [];
  const send = async () => {
    outstanding++;
    max = Math.max(max, outstanding);
    await sleep(5);
    outstanding--;
  };
  const running = runClosedLoop(send, { concurrency: 4, durationMs: 100, onCompletion: () => seen.push(outstanding) });
  await sleep(50);
  assert.equal(outstanding, 4);
  const r = await running;
  assert.equal(max, 4);
  assert.equal(outstanding, 0);
  assert.ok(r.ok >= 40, `${r.ok} requests in 100 ms at 5 ms each, 4 at a time`);
  assert.equal(r.failed, 0);
  assert.equal(r.firstError, undefined);
  assert.equal(r.latencies.length, r.ok);
  assert.equal(seen.length, r.ok, 'onCompletion sees every request');
  assert.ok(r.latencies.every((l) => l >= 4));
});

test(
  'the shared closed loop counts failed requests instead of throwing, ' + 'and still stops on its condition',
  async () => {
    let calls = 0;
    const boom = new Error('boom');
    // Every other request fails, half of them synchronously: a loop that never yielded would hang here.
    const send = () => {
      calls++;
      if (calls % 4 === 1) throw boom;
      if (calls % 4 === 3) return Promise.reject(new Error('later'));
      return Promise.resolve();
    };
    let stop = false;
    setTimeout(() => (stop = true), 50);
    const failures: unknown[] = [];
    const r = await runClosedLoop(send, {
      concurrency: 2,
      until: () => stop,
      onCompletion: (c, error) => c.ok || failures.push(error),
    });
    assert.equal(r.ok + r.failed, calls);
    assert.ok(r.failed > 10, `${r.failed} failures`);
    assert.ok(Math.abs(r.ok - r.failed) <= 2, `${r.ok} ok, ${r.failed} failed: every other one fails`);
    assert.equal(r.firstError, boom);
    assert.equal(failures.length, r.failed);
    assert.equal(r.latencies.length, r.ok, 'only successful requests give latency samples');
  },
);

test('the shared closed loop sends nothing after its duration and waits for the requests outstanding', async () => {
  const sends: number[] = [];
  const start = performance.now();
  const r = await runClosedLoop(
    async () => {
      sends.push(performance.now() - start);
      await sleep(30);
    },
    { concurrency: 2, durationMs: 100 },
  );
  const elapsed = performance.now() - start;
  assert.ok(Math.max(...sends) < 100, `last send at ${Math.max(...sends).toFixed(1)} ms`);
  assert.ok(r.seconds * 1000 >= 100 && r.seconds * 1000 < 250, `ran ${(r.seconds * 1000).toFixed(1)} ms`);
  assert.ok(r.seconds * 1000 <= elapsed);
  assert.equal(r.ok, sends.length);
  assert.equal((await runClosedLoop(async () => {}, { concurrency: 3, durationMs: 0 })).ok, 0);
  await assert.rejects(
    runClosedLoop(async () => {}, { concurrency: 0, durationMs: 10 }),
    /concurrency/,
  );
  await assert.rejects(
    runClosedLoop(async () => {}, { concurrency: 1 }),
    /duration or a stop condition/,
  );
});
