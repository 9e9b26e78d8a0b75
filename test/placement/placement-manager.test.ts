import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type TenancyError } from '../../src/index.js';
import { PlacementManager } from '../../src/engine/index.js';
import { cpuDevice, type Device } from '../../src/runtime/index.js';
import { classifierRepo, classifierInput, removeDir, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

const tpu: Device = {
  id: 'sim:edgetpu',
  kind: 'sim',
  available: true,
  simulated: true,
  memoryBytes: 8 * 2 ** 20,
  maxConcurrent: 1,
  latencyMs: { [M]: 2 },
  description: 'SIMULATED: test EdgeTPU',
};

test('a manual placement is applied live, and one that does not fit is refused with the figures', async () => {
  const repo = await classifierRepo();
  const engine = new Engine({ repository: repo, cores: 2, devices: [cpuDevice(), tpu] });
  const manager = new PlacementManager(engine);
  try {
    await engine.loadAll();
    assert.deepEqual(
      manager.view().entries.map((e) => [e.device, e.instances, e.threads]),
      [['cpu', 1, 2]],
    );

    const moved = await manager.set([
      { model: M, device: 'cpu', instances: 2, threads: 1, batching: null, expectedThroughput: 0 },
    ]);
    assert.deepEqual(
      moved.entries.map((e) => [e.device, e.instances, e.threads]),
      [['cpu', 2, 1]],
    );
    assert.equal((await engine.infer(M, { x: classifierInput(1) })).outputs['softmax_0.tmp_0'].shape[0], 1);

    const tooMany = [{ model: M, device: 'cpu', instances: 3, threads: 1, batching: null, expectedThroughput: 0 }];
    await assert.rejects(
      manager.set(tooMany),
      (e: TenancyError) =>
        e.code === 'INVALID_ARG' &&
        /placement refused: cpu: text_orientation 3 x 1 thread = 3 threads, the device has 2 cores/.test(e.message),
    );

    // The simulated EdgeTPU has 8 MB; the classifier's estimate (its own copy: 2.6 x the file + 28 MB) does not.
    const onTpu = [
      { model: M, device: 'sim:edgetpu', instances: 1, threads: 1, batching: null, expectedThroughput: 0 },
    ];
    await assert.rejects(
      manager.set(onTpu),
      /placement refused: sim:edgetpu \(simulated\): text_orientation 1 x \d+ MB = \d+ MB does not fit its 8 MB/,
    );
    await assert.rejects(manager.set([{ ...onTpu[0], device: 'gpu:7' }]), /unknown device "gpu:7"/);
    assert.deepEqual(
      manager.view().entries.map((e) => [e.device, e.instances]),
      [['cpu', 2]],
      'a refused placement changes nothing',
    );
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});
