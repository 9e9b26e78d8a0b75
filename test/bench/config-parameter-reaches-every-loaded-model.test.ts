import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultBenchOptions, EngineTarget, runBench, UrlTarget } from '../../src/bench/index.js';
import { classifierRepo, removeDir } from '../fixtures/repo.js';
import { servedClassifier } from '../fixtures/engine.js';

type Parameters = Record<string, { string_value: string }>;

/** The engine target, noting the parameters and instance count each load left the model with. */
class SpyTarget extends EngineTarget {
  loads: { parameters: Parameters; instances: number }[] = [];
  override async load(model: string, config?: Record<string, unknown>): Promise<void> {
    await super.load(model, config);
    const m = this.engine.model(model);
    this.loads.push({ parameters: structuredClone(m.config.parameters), instances: m.instances.length });
  }
}

const options = () => {
  const o = defaultBenchOptions({
    windowMs: 100,
    warmupMs: 0,
    plainBaseline: false,
    configParameters: { share_weights: 'false', intra_op_thread_count: '1', note: 'a=b' },
  });
  o.stability.maxWindows = 3;
  o.sweep.maxLevel = 2;
  return o;
};

test('cme loads every config with the parameters; the baseline keeps its own thread count and spinning', async () => {
  const repo = await classifierRepo();
  const target = new SpyTarget({ repository: repo, cores: 2 });
  try {
    const run = await runBench({ experiment: 'cme', target, options: options(), dbPath: null });
    const [baseline, ...levels] = target.loads;
    assert.deepEqual(
      target.loads.map((l) => l.instances),
      [1, 1, 1, 2],
      'the baseline (loaded once, then again by its setting) and levels 1 and 2',
    );
    assert.equal(baseline.parameters.share_weights?.string_value, 'false');
    assert.equal(baseline.parameters.note?.string_value, 'a=b');
    assert.equal(baseline.parameters.intra_op_thread_count?.string_value, '2', "the baseline's one thread per core");
    assert.equal(baseline.parameters.enable_spinning?.string_value, '1');
    for (const l of levels.slice(1)) {
      assert.equal(l.parameters.share_weights?.string_value, 'false');
      assert.equal(l.parameters.intra_op_thread_count?.string_value, '1');
    }
    assert.ok(
      run.result.notes.some((n) => n.includes('share_weights=false, intra_op_thread_count=1, note=a=b')),
      run.result.notes.join('\n'),
    );
  } finally {
    await target.close();
    await removeDir(repo);
  }
});

test('a --url server gets the parameters in the config override it loads', async () => {
  const served = await servedClassifier();
  const { engine, servers } = served;
  const seen: Parameters[] = [];
  const target = new UrlTarget({ url: `http://127.0.0.1:${servers.httpPort}`, protocol: 'http' });
  const load = target.load.bind(target);
  target.load = async (model, config) => {
    await load(model, config);
    seen.push(structuredClone(engine.model(model).config.parameters));
  };
  try {
    await runBench({ experiment: 'cme', target, options: options(), dbPath: null });
    assert.ok(seen.length >= 3, `${seen.length} loads`);
    for (const p of seen) assert.equal(p.share_weights?.string_value, 'false');
    assert.equal(seen.at(-1)?.intra_op_thread_count?.string_value, '1');
  } finally {
    await target.close();
    await served.close();
  }
});
