import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/index.js';
import { cpuDevice, type Device } from '../../src/runtime/index.js';
import { classifierRepo, classifierInput, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

const sim = (latencyMs: Record<string, number>): Device => ({
  id: 'sim:tpu',
  kind: 'sim',
  available: true,
  simulated: true,
  memoryBytes: 8 * 2 ** 20,
  maxConcurrent: 1,
  latencyMs,
  description: 'SIMULATED: test accelerator',
});

test(
  'an instance on a simulated accelerator takes the table latency per row, ' +
    'returns the right shapes and spends no CPU',
  async () => {
    const repo = await classifierRepo({ instance_group: [{ count: 1, device: 'sim:tpu' }] });
    const engine = new Engine({ repository: repo, devices: [cpuDevice(), sim({ [TEXT_ORIENTATION]: 25 })] });
    try {
      await engine.loadAll();
      const m = engine.model(TEXT_ORIENTATION);
      assert.equal(m.instances[0].device, 'sim:tpu');
      const cpuBefore = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < 4; i++) {
        const r = await engine.infer(TEXT_ORIENTATION, { x: classifierInput(2) });
        assert.deepEqual(r.outputs['softmax_0.tmp_0'].shape, [2, 2]);
        assert.ok(r.timing.computeInferMs >= 49, `batch 2 takes 2 x 25 ms: ${r.timing.computeInferMs.toFixed(1)} ms`);
      }
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpuBefore);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      assert.ok(cpuMs < wallMs * 0.5, `CPU ${cpuMs.toFixed(0)} ms over ${wallMs.toFixed(0)} ms of simulated work`);
    } finally {
      await engine.close();
      await removeDir(repo);
    }
  },
);

test(
  'a model without a latency on the simulated device fails to load with the reason; ' + 'an unknown device too',
  async () => {
    const repo = await classifierRepo({ instance_group: [{ count: 1, device: 'sim:tpu' }] });
    const engine = new Engine({ repository: repo, devices: [cpuDevice(), sim({ mobilenet_v2: 2.6 })] });
    try {
      await engine.loadAll();
      assert.match(
        engine.index()[0].reason,
        /sim:tpu \(simulated\) has no latency for model "text_orientation" \(it has: mobilenet_v2\)/,
      );
      await assert.rejects(
        engine.load(TEXT_ORIENTATION, { max_batch_size: 32, instance_group: [{ device: 'gpu:3' }] }),
        /unknown device "gpu:3" \(devices: cpu, sim:tpu\)/,
      );
      await assert.rejects(
        engine.load(TEXT_ORIENTATION, { max_batch_size: 32, instance_group: [{ count: 2, device: 'sim:tpu' }] }),
        /sim:tpu \(simulated\) runs at most 1 execution at once: it has 0 instances and 2 more were asked for/,
      );
    } finally {
      await engine.close();
      await removeDir(repo);
    }
  },
);
