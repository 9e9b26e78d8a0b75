import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/index.js';
import { currentPlacement, applyPlacement } from '../../src/engine/index.js';
import { Controller, type ModelProfile, type DeviceCapacity } from '../../src/placement/index.js';
import { classifierRepo, classifierInput, cloneModel, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

const A = TEXT_ORIENTATION;
const B = 'model_b';
const MB = 2 ** 20;
// Synthetic profiles (what the profiler would store): each instance adds 500 inf/s, 1 thread each.
const profile = (model: string): ModelProfile => ({
  model,
  device: 'cpu',
  points: [1, 2].map((instances) => ({
    instances,
    threads: 1,
    batching: null,
    throughput: 500 * instances,
    p99Ms: 5,
    memoryPerInstance: 20 * MB,
  })),
});
const capacity: DeviceCapacity[] = [
  { device: 'cpu', cores: 3, memoryBytes: 1024 * MB, maxInstances: Infinity, simulated: false },
];

const instancesOf = (engine: Engine, model: string) =>
  currentPlacement(engine)
    .filter((e) => e.model === model)
    .reduce((n, e) => n + e.instances, 0);

test(
  'when load shifts from model A to model B, ' + 'instances follow within the window and no request fails or is lost',
  async () => {
    const repo = await classifierRepo();
    await cloneModel(repo, A, B);
    const engine = new Engine({ repository: repo, cores: 3 });
    const moves: { at: number; placement: string }[] = [];
    const controller = new Controller(
      {
        models: () => [A, B],
        arrivals: () => engine.arrivals(),
        queued: () => engine.queued(),
        current: () => currentPlacement(engine),
        apply: async (entries) => {
          await applyPlacement(engine, entries);
          moves.push({
            at: performance.now(),
            placement: entries
              .map((e) => `${e.model}:${e.instances}`)
              .sort()
              .join(' '),
          });
        },
      },
      {
        profiles: () => [profile(A), profile(B)],
        devices: () => capacity,
        windowMs: 600,
        intervalMs: 100,
        shareThreshold: 0.2,
        cooldownMs: 300,
      },
    );
    let sent = 0;
    let answered = 0;
    const failures: string[] = [];
    const pending: Promise<void>[] = [];
    const x = classifierInput(1);
    // Open loop: requests leave on a fixed schedule whatever the answers do.
    const load = (rates: Record<string, number>, ms: number) =>
      new Promise<void>((done) => {
        const start = performance.now();
        const tick = setInterval(() => {
          if (performance.now() - start >= ms) {
            clearInterval(tick);
            return done();
          }
          for (const [model, perSecond] of Object.entries(rates)) {
            for (let k = 0; k < perSecond / 50; k++) {
              sent++;
              pending.push(
                engine.infer(model, { x }).then(
                  () => void answered++,
                  (e: Error) => void failures.push(e.message),
                ),
              );
            }
          }
        }, 20);
      });
    try {
      await engine.loadAll();
      controller.start();
      await load({ [A]: 150, [B]: 50 / 20 }, 1500);
      assert.equal(
        instancesOf(engine, A),
        2,
        `A got the second instance while it had the load: ${JSON.stringify(moves)}`,
      );
      const shiftAt = performance.now();
      await load({ [A]: 50 / 20, [B]: 150 }, 2500);
      await Promise.all(pending);
      assert.equal(instancesOf(engine, B), 2, `B has two instances after the shift: ${JSON.stringify(moves)}`);
      assert.equal(instancesOf(engine, A), 1, 'A keeps one instance');
      const moveToB = moves.find((m) => m.at > shiftAt && m.placement.includes(`${B}:2`));
      assert.ok(
        moveToB && moveToB.at - shiftAt < 600 + 300 + 1000,
        `moved toward B ${moveToB ? (moveToB.at - shiftAt).toFixed(0) : '?'} ms after the shift`,
      );
      assert.deepEqual(failures, [], 'no request failed');
      assert.equal(answered, sent, `every request was answered: ${answered} of ${sent}`);
      assert.ok(sent > 500, `a real load was offered: ${sent} requests`);
    } finally {
      controller.stop();
      await engine.close();
      await removeDir(repo);
    }
  },
);
