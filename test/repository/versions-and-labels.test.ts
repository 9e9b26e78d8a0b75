import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { readModelDefinition, scanRepository } from '../../src/repository/index.js';
import { Engine } from '../../src/index.js';
import { classifierRepo, classifierInput, patchConfig, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

test('the newest version is loaded by default; a policy can select others; labels are read', async () => {
  const repo = await classifierRepo();
  const dir = path.join(repo, TEXT_ORIENTATION);
  await cp(path.join(dir, '1'), path.join(dir, '3'), { recursive: true });
  await cp(path.join(dir, '1'), path.join(dir, '2'), { recursive: true });
  try {
    const entries = await scanRepository(repo);
    assert.deepEqual(
      entries.map((e) => [e.name, e.versions]),
      [[TEXT_ORIENTATION, [1, 2, 3]]],
    );
    const latest = await readModelDefinition(repo, TEXT_ORIENTATION);
    assert.deepEqual(
      latest.versions.map((v) => v.version),
      [3],
    );
    assert.deepEqual(latest.versions[0].labels, { 'softmax_0.tmp_0': ['0', '180'] });

    await patchConfig(repo, TEXT_ORIENTATION, { version_policy: { specific: { versions: [1, 3] } } });
    const engine = new Engine({ repository: repo, cores: 2 });
    try {
      await engine.loadAll();
      assert.deepEqual(
        engine.index().map((r) => r.version),
        ['3', '1'],
      );
      assert.equal((await engine.infer(TEXT_ORIENTATION, { x: classifierInput() })).version, 3, 'newest by default');
      assert.equal((await engine.infer(TEXT_ORIENTATION, { x: classifierInput() }, { version: 1 })).version, 1);
      await assert.rejects(
        engine.infer(TEXT_ORIENTATION, { x: classifierInput() }, { version: 2 }),
        /no loaded version 2 \(loaded: 3, 1\)/,
      );
    } finally {
      await engine.close();
    }
    await patchConfig(repo, TEXT_ORIENTATION, { version_policy: { specific: { versions: [4] } } });
    await assert.rejects(
      readModelDefinition(repo, TEXT_ORIENTATION),
      /asks for version\(s\) 4, which have no model file \(on disk: 1, 2, 3\)/,
    );
  } finally {
    await removeDir(repo);
  }
});
