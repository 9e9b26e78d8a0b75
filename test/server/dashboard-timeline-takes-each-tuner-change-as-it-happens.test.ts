/**
 * The live tuner pushes each change to the dashboard's timeline as it happens
 * (LiveTuner.subscribe), each with its own time and reason: a change that another follows before
 * the next sample is not lost (comparing the tuner's status a second apart would see only the
 * last), and a stopped sampler hears no more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, LiveTuner, PlacementManager } from '../../src/engine/index.js';
import { DashboardSampler } from '../../src/server/dashboard/sampler.js';
import { classifierRepo, removeDir, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

test('a tuner change followed by another before the next sample is in the timeline, with its reason', async () => {
  // A config silent on instances and batching: served on the defaults, which the tuner may tune.
  const repo = await classifierRepo({ instance_group: undefined, dynamic_batching: undefined });
  const engine = new Engine({ repository: repo, cores: 2 });
  try {
    await engine.loadAll();
    // Not started: it reports changes when asked for its status, and tunes nothing.
    const tuner = new LiveTuner(engine);
    const placement = new PlacementManager(engine, { tuner });
    // Samples taken by hand only.
    const sampler = new DashboardSampler(engine, placement, 3_600_000);
    sampler.start();
    try {
      assert.equal(tuner.status()[0].state, 'default');
      const before = Date.now();
      // The user places it: the tuner stops tuning it (a change, pushed)...
      await placement.set([
        {
          model: M,
          device: 'cpu',
          instances: 1,
          threads: 1,
          batching: { maxBatchSize: 2, delayUs: 0 },
          expectedThroughput: 0,
        },
      ]);
      const fixed = tuner.status()[0];
      assert.equal(fixed.state, 'fixed');
      // ...then loads it again from its repository config, which is silent: back on the defaults,
      // before the dashboard's next sample. The status a sample reads now says "default" only.
      await engine.load(M);
      const back = tuner.status()[0];
      assert.equal(back.state, 'default');
      const { events } = sampler.tick();
      const tuning = events.filter((e) => e.kind === 'tuning' && e.model === M);
      assert.deepEqual(
        tuning.map((e) => [e.text, e.reason]),
        [
          [`fixed: ${fixed.configuration}`, fixed.why],
          [`default: ${back.configuration}`, back.why],
        ],
        'both changes, in order, each with the reason the tuner gave',
      );
      assert.match(back.why, /serving the measured defaults/);
      for (const e of tuning) assert.ok(e.t >= before && e.t <= Date.now(), 'at the time of the change');
      assert.ok(tuning[0].t <= tuning[1].t);
      assert.ok(sampler.snapshot().timeline.some((e) => e.kind === 'tuning' && e.text.startsWith('fixed: ')));
      // Told once: the next sample has no tuning event.
      assert.equal(sampler.tick().events.filter((e) => e.kind === 'tuning').length, 0);

      // Stopped, the sampler is no longer told.
      sampler.stop();
      await placement.set([
        { model: M, device: 'cpu', instances: 1, threads: 2, batching: null, expectedThroughput: 0 },
      ]);
      assert.equal(tuner.status()[0].state, 'fixed');
      assert.equal(sampler.tick().events.filter((e) => e.kind === 'tuning').length, 0);
    } finally {
      sampler.stop();
    }
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});
