import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/index.js';
import { applyServingDefaults, DEFAULT_BATCH } from '../../src/engine/serving-defaults.js';
import { PlacementManager } from '../../src/engine/index.js';
import { validateModelConfig } from '../../src/repository/index.js';
import { classifierInput, classifierRepo, removeDir, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

const MB = 2 ** 20;
const base = (raw: Record<string, unknown> = {}) =>
  validateModelConfig(
    { max_batch_size: 8, input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3] }], ...raw },
    'm/config.json',
    'm',
  );
const roomy = { cores: 4, instanceBytes: 10 * MB, memoryBytes: 1000 * MB };

test(
  'a config without instance_group gets one instance per core with 1 thread; ' +
    'without dynamic_batching, batching up to 4',
  () => {
    const { config, defaults } = applyServingDefaults(base(), { instanceGroup: true, dynamicBatching: true }, roomy);
    assert.deepEqual(config.instance_group, [
      { count: 4, kind: 'KIND_CPU', host: 'thread', device: 'cpu', threads: 1 },
    ]);
    assert.deepEqual(config.dynamic_batching?.preferred_batch_size, [DEFAULT_BATCH]);
    assert.equal(config.dynamic_batching?.max_queue_delay_microseconds, 0);
    assert.equal(defaults?.instances, '4 instances x 1 thread');
    assert.equal(defaults?.batching, 'dynamic batching up to 4, no queue delay');
    assert.equal(defaults?.reasons.length, 2);
  },
);

test('what the config states is served as written; the rest is still chosen', () => {
  const stated = base({ instance_group: [{ count: 1 }], dynamic_batching: { max_queue_delay_microseconds: 500 } });
  const both = applyServingDefaults(stated, { instanceGroup: false, dynamicBatching: false }, roomy);
  assert.equal(both.config, stated, 'nothing changed');
  assert.equal(both.defaults, null);
  const onlyBatching = applyServingDefaults(
    base({ instance_group: [{ count: 3, threads: 2 }] }),
    { instanceGroup: false, dynamicBatching: true },
    roomy,
  );
  assert.equal(onlyBatching.config.instance_group[0].count, 3);
  assert.equal(onlyBatching.defaults?.instances, null);
});

test(
  'the default count is capped by memory and respects intra_op_thread_count; ' +
    'a model without a batch dimension gets no batching',
  () => {
    const tight = applyServingDefaults(
      base(),
      { instanceGroup: true, dynamicBatching: true },
      { cores: 8, instanceBytes: 300 * MB, memoryBytes: 700 * MB },
    );
    assert.equal(tight.config.instance_group[0].count, 2);
    assert.match(tight.defaults!.reasons[0], /2 because more would not fit the memory \(~300 MB each\)/);
    const threaded = applyServingDefaults(
      base({ parameters: { intra_op_thread_count: { string_value: '2' } } }),
      { instanceGroup: true, dynamicBatching: false },
      roomy,
    );
    assert.deepEqual(threaded.config.instance_group, [{ count: 2, kind: 'KIND_CPU', host: 'thread', device: 'cpu' }]);
    const unbatched = applyServingDefaults(
      base({ max_batch_size: 0 }),
      { instanceGroup: false, dynamicBatching: true },
      roomy,
    );
    assert.equal(unbatched.config.dynamic_batching, undefined);
    assert.equal(unbatched.defaults, null);
  },
);

test(
  "the engine serves a bare config on the defaults and says so in GET /v2/placement's view; " +
    'a stated one as written',
  async () => {
    const bare = await classifierRepo({ instance_group: undefined, dynamic_batching: undefined });
    const stated = await classifierRepo({ instance_group: [{ count: 1, kind: 'KIND_CPU' }] });
    const engines = [new Engine({ repository: bare, cores: 2 }), new Engine({ repository: stated, cores: 2 })];
    try {
      await Promise.all(engines.map((e) => e.loadAll()));
      const [a, b] = engines.map((e) => e.model(M));
      assert.deepEqual(
        a.instances.map((i) => i.threads),
        [1, 1],
      );
      assert.deepEqual(a.config.dynamic_batching?.preferred_batch_size, [4]);
      assert.equal((await engines[0].infer(M, { x: classifierInput(1) })).outputs['softmax_0.tmp_0'].shape[0], 1);
      assert.equal(b.instances.length, 1, 'a stated count of 1 is served as 1');
      assert.equal(b.defaults, null);
      const [view] = new PlacementManager(engines[0]).view().models;
      assert.deepEqual(
        [view.model, view.source, view.instances, view.batching],
        [M, 'defaults', '2 instances x 1 thread', 'dynamic batching up to 4, no queue delay'],
      );
      assert.equal(new PlacementManager(engines[1]).view().models[0].source, 'config');
    } finally {
      await Promise.all(engines.map((e) => e.close()));
      await removeDir(bare);
      await removeDir(stated);
    }
  },
);
