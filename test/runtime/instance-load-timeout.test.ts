import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelInstance } from '../../src/runtime/index.js';
import { textOrientationModelFile } from '../../src/default-repository.js';

test(
  'an instance that does not load and warm up in time fails with the limit in its reason, ' + 'and its host is ended',
  async () => {
    const x = { datatype: 'FP32' as const, shape: [64, 3, 48, 192], data: new Float32Array(64 * 3 * 48 * 192) };
    const instance = new ModelInstance({
      name: 'slow#0',
      file: textOrientationModelFile(),
      warmup: [{ inputs: { x }, runs: 50 }],
      loadTimeoutMs: 30,
      session: { intraOpThreads: 1, interOpThreads: 1, spinning: false, executionProviders: ['cpu'] },
      host: 'process',
    });
    await assert.rejects(instance.start(), /instance slow#0 failed: it did not load and warm up within 30 ms/);
    assert.equal(instance.state, 'failed');
    assert.match(instance.reason, /within 30 ms/);
  },
);
