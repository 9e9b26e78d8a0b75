import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measure, createInputSource } from '../../src/bench/index.js';
import { FakeTarget } from './fake-target.js';

test(
  'a steady target is measured stable in 3 windows, ' + 'with throughput, latency, queue/compute split and memory',
  async () => {
    const target = new FakeTarget(10, 2); // 2 at a time, 10 ms each: 200 inferences/s at batch 1
    const inputs = await createInputSource(await target.metadata(), { kind: 'random' }, 2);
    const figures: number[] = [];
    const m = await measure(target, [{ model: 'fake', load: { mode: 'concurrency', concurrency: 4 }, inputs }], {
      windowMs: 200,
      warmupMs: 50,
      stability: { threshold: 0.25, count: 3, maxWindows: 6 },
      onWindow: (i) => figures.push(i),
    });
    const s = m.streams[0];
    assert.equal(m.stable, true);
    assert.equal(m.windows, figures.length);
    assert.ok(m.windows >= 3 && m.windows <= 6);
    assert.equal(s.batchSize, 2);
    assert.ok(
      s.throughput > 250 && s.throughput < 420,
      `throughput ${s.throughput} inferences/s (2 x ~200 requests/s)`,
    );
    assert.ok(
      s.latencyMs.p50 >= 15 && s.latencyMs.p50 < 40,
      `p50 ${s.latencyMs.p50} ms: 10 ms run after ~10 ms waiting`,
    );
    assert.ok(s.latencyMs.p99 >= s.latencyMs.p50);
    assert.ok(s.server && s.server.computeInferUs > 9000 && s.server.queueUs > 3000, JSON.stringify(s.server));
    assert.equal(m.memory?.peakRssBytes, 100 * 2 ** 20);
    assert.ok(m.cpu.processPct >= 0 && m.cpu.systemPct >= 0);
  },
);
