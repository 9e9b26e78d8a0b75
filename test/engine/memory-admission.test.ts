import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { Engine } from '../../src/index.js';
import { classifierRepo, classifierInput, removeDir, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

test('instances that would not fit in the memory available are refused with the figures, and what runs keeps serving', async () => {
  const repo = await classifierRepo();
  const engine = new Engine({ repository: repo, cores: 2 });
  try {
    await engine.loadAll();
    // The classifier's estimate is about 9 MB per instance: ask for more instances than memory holds.
    const count = Math.ceil(os.freemem() / (8 * 2 ** 20)) + 10;
    const config = { ...engine.model(M).config, instance_group: [{ count, kind: 'KIND_CPU' }] };
    // In place, the refusal counts the instances to add (all but the one running).
    await assert.rejects(engine.load(M, config), new RegExp(`\\d+ instances need about \\d+ MB \\(estimate: 1\\.5 x the model file \\+ 8 MB each\\), only \\d+ MB are available`));
    assert.equal(engine.model(M).instances.length, 1, 'the running version stays');
    assert.equal((await engine.infer(M, { x: classifierInput(1) })).outputs['softmax_0.tmp_0'].shape[0], 1);
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});
