import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ProfileStore,
  deviceKey,
  profileModels,
  type DeviceInfo,
  type ProfileBench,
} from '../../src/placement/index.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

/** A bench that measures nothing: it counts calls and answers with figures from the setting. */
function fakeBench(file: string, runtime = 'onnxruntime-node 1.30.0') {
  const calls: { model: string; config: Record<string, unknown> }[] = [];
  const bench: ProfileBench = {
    config: async () => ({
      name: 'm',
      max_batch_size: 8,
      instance_group: [{ count: 1, kind: 'KIND_CPU' }],
      parameters: {},
    }),
    modelFile: async () => file,
    runtime: () => runtime,
    measure: async (model, config, s) => {
      calls.push({ model, config });
      return { throughput: 100 * s.instances, p99Ms: 5, memoryPerInstance: 2 ** 20, errors: 0, firstError: null };
    },
  };
  return { bench, calls };
}

const cpu = (cores: number[], id = 'cpu'): DeviceInfo => ({
  id,
  kind: 'cpu',
  available: true,
  cores,
  description: 'test CPU',
  memoryBytes: 2 ** 30,
  simulated: false,
});

test('a stored profile is reused until the model file, the device or the runtime changes, or --force', async () => {
  const dir = await tempDir('tenancy-profile-store-');
  const file = path.join(dir, 'model.onnx');
  await writeFile(file, 'version one');
  const store = new ProfileStore(path.join(dir, 'profiles.db'));
  try {
    const { bench, calls } = fakeBench(file);
    const first = await profileModels(bench, [cpu([0, 1])], ['m'], { store });
    assert.equal(first[0].source, 'measured');
    const measured = calls.length;
    assert.equal(measured, 6, '2 cores: 1x1, 1x2, 2x1, each without batching and with batches of 4');

    const again = await profileModels(bench, [cpu([0, 1])], ['m'], { store });
    assert.equal(again[0].source, 'stored');
    assert.equal(calls.length, measured, 'nothing measured again');
    assert.deepEqual(again[0].points, first[0].points);

    await writeFile(file, 'version two');
    assert.equal(
      (await profileModels(bench, [cpu([0, 1])], ['m'], { store }))[0].source,
      'measured',
      'a new model file',
    );
    assert.equal((await profileModels(bench, [cpu([0])], ['m'], { store }))[0].source, 'measured', 'other cores');
    assert.equal(
      (await profileModels(fakeBench(file, 'onnxruntime-node 9.9.9').bench, [cpu([0, 1])], ['m'], { store }))[0].source,
      'measured',
      'another runtime',
    );
    assert.equal(
      (await profileModels(bench, [cpu([0, 1])], ['m'], { store, force: true }))[0].source,
      'measured',
      '--force',
    );
    assert.equal((await profileModels(bench, [cpu([0, 1])], ['m'], { store }))[0].source, 'stored');
  } finally {
    store.close();
    await removeDir(dir);
  }
});

test('device keys differ by device id, cores, hardware and runtime, and not by core order', () => {
  const base = { device: 'cpu:big', hardware: 'AMD EPYC x2', cores: [1, 2], runtime: 'onnxruntime-node 1.30.0' };
  const k = deviceKey(base);
  assert.equal(deviceKey({ ...base, cores: [2, 1] }), k);
  for (const changed of [
    { device: 'cpu:little' },
    { cores: [1] },
    { hardware: 'Cortex-A57 x4' },
    { runtime: 'onnxruntime-node 1.31.0' },
  ]) {
    assert.notEqual(deviceKey({ ...base, ...changed }), k, JSON.stringify(changed));
  }
});

test('a profile stored under one model name is returned under the name asked for (same file)', async () => {
  const store = new ProfileStore(':memory:');
  try {
    const identity = { device: 'cpu', hardware: 'x', cores: [0], runtime: 'r' };
    store.put('abc', identity, {
      model: 'first',
      device: 'cpu',
      points: [{ instances: 1, threads: 1, batching: null, throughput: 10, p99Ms: 1, memoryPerInstance: 1 }],
    });
    assert.equal(store.get('abc', identity, 'second')?.profile.model, 'second');
    assert.equal(store.get('abd', identity, 'second'), null);
    assert.equal(store.list().length, 1);
  } finally {
    store.close();
  }
});
