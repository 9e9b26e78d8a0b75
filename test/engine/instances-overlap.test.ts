import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/index.js';
import { classifierRepo, classifierInput, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

test('two instances of one model run at the same time, by their own timestamps', async () => {
  const repo = await classifierRepo({}, { instances: 2 });
  const engine = new Engine({ repository: repo, cores: 2 });
  try {
    await engine.loadAll();
    const model = engine.model(TEXT_ORIENTATION);
    assert.equal(model.instances.length, 2);
    assert.deepEqual(
      model.instances.map((i) => i.threads),
      [1, 1],
      'thread budget: 2 cores over 2 instances',
    );
    const x = classifierInput(16);
    // Several rounds of two concurrent requests; each pair must land on both instances and overlap.
    let overlapped = 0;
    for (let round = 0; round < 5; round++) {
      const [a, b] = await Promise.all([engine.infer(TEXT_ORIENTATION, { x }), engine.infer(TEXT_ORIENTATION, { x })]);
      assert.notEqual(a.instance, b.instance, 'the two requests ran on different instances');
      const start = Math.max(a.timestamps.computeStart, b.timestamps.computeStart);
      const end = Math.min(a.timestamps.computeEnd, b.timestamps.computeEnd);
      if (end > start) overlapped++;
    }
    assert.ok(overlapped >= 4, `compute windows overlapped in ${overlapped} of 5 rounds`);
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});
