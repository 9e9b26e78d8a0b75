import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type TenancyError } from '../../src/index.js';
import { classifierRepo, classifierInput, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

test('unload lets running and queued requests finish, refuses new ones, then stops the instances', async () => {
  const repo = await classifierRepo({ max_batch_size: 64 });
  const engine = new Engine({ repository: repo, cores: 2 });
  try {
    await engine.loadAll();
    const model = engine.model(TEXT_ORIENTATION);
    const accepted = Array.from({ length: 4 }, () => engine.infer(TEXT_ORIENTATION, { x: classifierInput(32) }));
    const unloading = engine.unload(TEXT_ORIENTATION);
    await assert.rejects(engine.infer(TEXT_ORIENTATION, { x: classifierInput(1) }), (e: TenancyError) => {
      assert.equal(e.code, 'UNAVAILABLE');
      assert.match(e.message, /model "text_orientation" is not ready: it is unloading/);
      return true;
    });
    const results = await Promise.all(accepted);
    assert.equal(results.length, 4, 'every accepted request completed');
    await unloading;
    assert.deepEqual(model.instances, []);
    assert.deepEqual(engine.index(), [
      { name: TEXT_ORIENTATION, version: '', state: 'UNAVAILABLE', reason: 'unloaded' },
    ]);
    await assert.rejects(
      engine.infer(TEXT_ORIENTATION, { x: classifierInput(1) }),
      /not ready: it is unavailable \(unloaded\)/,
    );
    // Loading it again serves again.
    await engine.load(TEXT_ORIENTATION);
    const r = await engine.infer(TEXT_ORIENTATION, { x: classifierInput(1) });
    assert.equal(r.version, 1);
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});
