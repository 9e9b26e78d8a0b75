import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runtimeDefaults, withInstances } from '../../src/bench/config-overrides.js';

const config = {
  name: 'm',
  max_batch_size: 8,
  instance_group: [{ count: 3, kind: 'KIND_CPU', host: 'process' }, { count: 1 }],
  parameters: { source: { string_value: 'zoo' }, enable_spinning: { string_value: '0' } },
};

test('the baseline config is one instance with one thread per core and spinning on, the rest kept', () => {
  assert.deepEqual(runtimeDefaults(config, 4), {
    name: 'm',
    max_batch_size: 8,
    instance_group: [{ count: 1, kind: 'KIND_CPU', host: 'process' }],
    parameters: {
      source: { string_value: 'zoo' },
      enable_spinning: { string_value: '1' },
      intra_op_thread_count: { string_value: '4' },
    },
  });
});

test('a concurrency level is one instance group of that count, and the original config is not changed', () => {
  assert.deepEqual(withInstances(config, 5).instance_group, [{ count: 5, kind: 'KIND_CPU', host: 'process' }]);
  assert.deepEqual(withInstances({ name: 'x' }, 2), { name: 'x', instance_group: [{ kind: 'KIND_CPU', count: 2 }] });
  assert.equal(config.instance_group[0].count, 3);
});
