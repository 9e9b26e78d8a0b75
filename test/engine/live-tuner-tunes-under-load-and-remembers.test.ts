import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  Engine,
  LiveTuner,
  PlacementManager,
  TuningMemory,
  type ModelTuning,
  type TunerOptions,
} from '../../src/engine/index.js';
import { TuningStore } from '../../src/placement/tuning-store.js';
import type { Tensor } from '../../src/tensor.js';
import { classifierInput, classifierRepo, removeDir, tempDir, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

/** Short windows and few trials: the search is tested by tables; this tests the loop on the real runtime. */
const FAST: TunerOptions = { windowMs: 300, settleMs: 100, intervalMs: 100, maxTrials: 3, busyShare: 0.5 };
const BARE = { instance_group: undefined, dynamic_batching: undefined };

/** A closed loop of `clients` requests against the engine until stopped; counts failures. */
function load(engine: Engine, input: () => Tensor, clients = 8) {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (!stop) {
      await engine.infer(M, { x: input() }).then(
        () => ok++,
        (err: Error) => failures.push(err.message),
      );
    }
  });
  return {
    stop: async () => {
      stop = true;
      await Promise.all(loops);
      return { ok, failures };
    },
  };
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A tuning memory in a scratch folder, closed and removed after `run`. */
async function withMemory(run: (memory: TuningMemory, dir: string) => Promise<void>): Promise<void> {
  const dir = await tempDir('tenancy-tuning-');
  const memory = new TuningMemory(new TuningStore(path.join(dir, 'profiles.db')));
  try {
    await run(memory, dir);
  } finally {
    memory.store.close();
    await removeDir(dir);
  }
}

const stateOf = (tuner: LiveTuner): ModelTuning => tuner.status().find((t) => t.model === M)!;

test(
  'a bare config is tuned under live load with no request lost, ' +
    'stored, and the next start serves the stored tuning at once',
  async () => {
    const repo = await classifierRepo(BARE);
    try {
      await withMemory(async (memory) => {
        const engine = new Engine({ repository: repo, cores: 2, storedTuning: memory.lookup });
        await engine.loadAll();
        const tuner = new LiveTuner(engine, { ...FAST, memory });
        assert.equal(stateOf(tuner).state, 'default');
        assert.equal(stateOf(tuner).throughput, null);
        tuner.start();
        const run = load(engine, () => classifierInput(1));
        await until('tuned', () => stateOf(tuner).state === 'tuned').catch(async (err) => {
          await run.stop();
          await engine.close();
          throw err;
        });
        const { ok, failures } = await run.stop();
        await tuner.stop();
        const tuned = stateOf(tuner);
        assert.deepEqual(failures, [], 'every request answered while instances and batch sizes moved');
        assert.ok(ok > 0);
        assert.ok(tuned.trials.length >= 1 && tuned.trials.length <= 3, `${tuned.trials.length} trials`);
        assert.ok(tuned.throughput! > 0 && tuned.startThroughput! > 0 && tuned.tuningMs! > 0);
        assert.match(tuned.why, /settled after \d+ trials in [\d.]+ s: .*?[\d.]+ inf\/s served/);
        assert.equal(tuned.shapes, '{"x":[3,48,192]}');
        const view = new PlacementManager(engine, { tuner }).view();
        assert.equal(view.mode, 'tune');
        assert.equal(view.models[0].tuning?.state, 'tuned');
        const served = engine.model(M);
        assert.notEqual(served.defaults, null, "still the engine's choice");
        const [row] = memory.store.list();
        assert.equal(memory.store.list().length, 1);
        assert.equal(row.shapes, tuned.shapes);
        assert.equal(row.point.instances, served.instances.length);
        assert.equal(row.point.batch, served.config.dynamic_batching?.preferred_batch_size.at(-1));
        await engine.close();

        // The second start: the stored point from the first request, no tuning.
        const again = new Engine({ repository: repo, cores: 2, storedTuning: memory.lookup });
        await again.loadAll();
        try {
          const m = again.model(M);
          assert.equal(m.defaults?.source, 'stored');
          assert.equal(m.instances.length, row.point.instances);
          assert.deepEqual(
            m.instances.map((i) => i.threads),
            Array(row.point.instances).fill(row.point.threads),
          );
          assert.equal(m.config.dynamic_batching?.preferred_batch_size.at(-1), row.point.batch);
          assert.equal(m.config.dynamic_batching?.max_queue_delay_microseconds, row.point.delayUs);
          assert.match(m.defaults!.reasons[0], /tuned under live load at/);
          const second = new LiveTuner(again, { ...FAST, memory });
          assert.equal(stateOf(second).state, 'stored');
          assert.equal(stateOf(second).throughput, row.throughput);
        } finally {
          await again.close();
        }
      });
    } finally {
      await removeDir(repo);
    }
  },
);

test(
  'a config that states instances and batching is never tuned; ' + 'a placement set during tuning ends it and stands',
  async () => {
    const fixed = await classifierRepo({
      instance_group: [{ count: 1, kind: 'KIND_CPU' }],
      dynamic_batching: { max_queue_delay_microseconds: 0 },
    });
    const bare = await classifierRepo(BARE);
    const engines = [new Engine({ repository: fixed, cores: 2 }), new Engine({ repository: bare, cores: 2 })];
    let stopLoads = async (): Promise<{ failures: string[] }[]> => [];
    try {
      await Promise.all(engines.map((e) => e.loadAll()));
      const [a, b] = engines.map((e) => new LiveTuner(e, { ...FAST, maxTrials: 50, maxTuningMs: 600_000 }));
      assert.equal(stateOf(a).state, 'fixed');
      assert.match(stateOf(a).why, /served as written/);
      a.start();
      b.start();
      const loads = engines.map((e) => load(e, () => classifierInput(1)));
      stopLoads = () => Promise.all(loads.map((l) => l.stop()));
      await until('tuning', () => stateOf(b).state === 'tuning');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(stateOf(a).state, 'fixed');
      assert.equal(engines[0].model(M).instances.length, 1, 'the stated count of 1 stays 1 under load');
      assert.deepEqual(
        engines[0].model(M).config.dynamic_batching?.preferred_batch_size,
        [],
        'stated batching untouched',
      );
      // The user places the bare model while the tuner is busy with it.
      await new PlacementManager(engines[1]).set([
        {
          model: M,
          device: 'cpu',
          instances: 1,
          threads: 2,
          batching: { maxBatchSize: 2, delayUs: 0 },
          expectedThroughput: 0,
        },
      ]);
      await until('fixed', () => stateOf(b).state === 'fixed');
      assert.match(stateOf(b).why, /PUT \/v2\/placement/);
      await new Promise((r) => setTimeout(r, 1000));
      const results = await stopLoads();
      await Promise.all([a.stop(), b.stop()]);
      assert.deepEqual(
        engines[1].model(M).instances.map((i) => i.threads),
        [2],
        'the placement stands: the tuner did not undo it',
      );
      assert.deepEqual(engines[1].model(M).config.dynamic_batching?.preferred_batch_size, [2]);
      assert.deepEqual(
        results.flatMap((r) => r.failures),
        [],
      );
    } finally {
      await stopLoads();
      await Promise.all(engines.map((e) => e.close()));
      await removeDir(fixed);
      await removeDir(bare);
    }
  },
);

test('a model with dynamic dims is tuned at the shapes its requests carry, and stored under them', async () => {
  const repo = await classifierRepo({
    ...BARE,
    image_input: undefined,
    input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, -1, -1] }],
  });
  try {
    await withMemory(async (memory) => {
      const engine = new Engine({ repository: repo, cores: 2, storedTuning: memory.lookup });
      await engine.loadAll();
      const tuner = new LiveTuner(engine, { ...FAST, memory });
      assert.equal(stateOf(tuner).shapes, null, 'no shapes before the first request');
      tuner.start();
      const wide = classifierInput(1);
      const run = load(engine, () => wide);
      await until('tuned', () => stateOf(tuner).state === 'tuned').catch(async (err) => {
        await run.stop();
        await engine.close();
        throw err;
      });
      await run.stop();
      assert.equal(stateOf(tuner).shapes, '{"x":[3,48,192]}');
      assert.deepEqual(
        memory.store.list().map((r) => r.shapes),
        ['{"x":[3,48,192]}'],
      );
      // Requests of another shape: not what it was tuned for, so it goes back to tuning under load.
      const narrow: Tensor = { datatype: 'FP32', shape: [1, 3, 48, 96], data: new Float32Array(3 * 48 * 96) };
      const other = load(engine, () => narrow);
      await until('tuned at the new shapes', () => memory.store.list().length === 2).catch(async (err) => {
        await other.stop();
        await engine.close();
        throw err;
      });
      await other.stop();
      await tuner.stop();
      assert.deepEqual(
        memory.store
          .list()
          .map((r) => r.shapes)
          .sort(),
        ['{"x":[3,48,192]}', '{"x":[3,48,96]}'],
      );
      await engine.close();
      // serve --shape: the given size is the key before any request, so that tuning serves at once.
      const sized = new Engine({ repository: repo, cores: 2, storedTuning: memory.lookup, shapes: { x: [3, 48, 96] } });
      await sized.loadAll();
      try {
        assert.equal(sized.model(M).shapes, '{"x":[3,48,96]}');
        assert.equal(sized.model(M).defaults?.source, 'stored');
        assert.equal(memory.servedFor(M)?.shapes, '{"x":[3,48,96]}');
      } finally {
        await sized.close();
      }
    });
  } finally {
    await removeDir(repo);
  }
});

test("a stored tuning is keyed by the model file's content and the shapes: a changed file is tuned again", () =>
  withMemory(async (memory, dir) => {
    const file = path.join(dir, 'model.onnx');
    await writeFile(file, 'model bytes, version one');
    assert.equal(await memory.lookup('m', file, '{"x":[3]}'), null);
    const point = { instances: 3, threads: 1, batch: 8, delayUs: 500 };
    await memory.remember('m', file, {
      shapes: '{"x":[3]}',
      point,
      throughput: 120,
      startThroughput: 100,
      trials: 5,
      tuningMs: 20_000,
      tunedAt: '2026-12-03T00:00:00.000Z',
    });
    assert.deepEqual((await memory.lookup('m', file, '{"x":[3]}'))?.point, point);
    assert.deepEqual(
      (await memory.lookup('m', file, null))?.point,
      point,
      'dims still dynamic: the newest tuning of the file',
    );
    assert.equal(await memory.lookup('m', file, '{"x":[4]}'), null, 'other input shapes: another key');
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(file, 'model bytes, version two');
    assert.equal(await memory.lookup('m', file, '{"x":[3]}'), null, 'a changed model file invalidates it');
  }));
