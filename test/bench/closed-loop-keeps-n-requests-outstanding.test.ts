import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadGenerator, createInputSource } from '../../src/bench/index.js';
import { FakeTarget } from './fake-target.js';

test('a closed loop keeps exactly its concurrency of requests outstanding, and stop waits for them', async () => {
  const target = new FakeTarget(5);
  const inputs = await createInputSource(await target.metadata(), { kind: 'zero' });
  const gen = new LoadGenerator(target, 'fake', { mode: 'concurrency', concurrency: 3 }, inputs);
  gen.start();
  await new Promise((r) => setTimeout(r, 100));
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
  await new Promise((r) => setTimeout(r, 300));
  const sent = target.sent.length;
  assert.ok(sent >= 45 && sent <= 62, `sent ${sent} in 300 ms at 200/s`);
  assert.ok(target.outstanding > 30, `${target.outstanding} outstanding: the open loop did not wait for answers`);
  const gen2 = gen.stop();
  await gen2;
});
