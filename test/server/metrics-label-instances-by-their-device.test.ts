import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/index.js';
import { cpuDevice, type Device } from '../../src/runtime/index.js';
import { createMetricsRegistry } from '../../src/server/metrics.js';
import { classifierRepo, removeDir, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

// tenancy_model_instances labelled every instance device="cpu", whatever device it ran on.
test(
  'tenancy_model_instances counts instances per device and host; ' + 'tenancy_model_configuration says who chose them',
  async () => {
    const sim: Device = {
      id: 'sim:tpu',
      kind: 'sim',
      available: true,
      simulated: true,
      memoryBytes: 8 * 2 ** 20,
      maxConcurrent: 2,
      latencyMs: { [M]: 5 },
      description: 'SIMULATED: test accelerator',
    };
    const repo = await classifierRepo({ instance_group: [{ count: 1 }, { count: 2, device: 'sim:tpu' }] });
    const engine = new Engine({ repository: repo, cores: 2, devices: [cpuDevice(), sim] });
    try {
      await engine.loadAll();
      const text = await createMetricsRegistry(engine).metrics();
      assert.match(
        text,
        new RegExp(`^tenancy_model_instances\\{model="${M}",version="1",device="cpu",host="thread"\\} 1$`, 'm'),
      );
      assert.match(
        text,
        new RegExp(`^tenancy_model_instances\\{model="${M}",version="1",device="sim:tpu",host="thread"\\} 2$`, 'm'),
      );
      assert.match(
        text,
        new RegExp(`^tenancy_model_configuration\\{model="${M}",version="1",source="config"\\} 1$`, 'm'),
      );
    } finally {
      await engine.close();
      await removeDir(repo);
    }
  },
);
