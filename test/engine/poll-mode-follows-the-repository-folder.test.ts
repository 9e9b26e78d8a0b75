import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Engine, RepositoryPoller } from '../../src/engine/index.js';
import { runClosedLoop } from '../../src/bench/closed-loop.js';
import { classifierInput, classifierRepo, cloneModel, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

// Each scan is driven by the test (poll()), so nothing waits on the interval.
test('poll mode: a model added, a new version and a removed model are followed, with no failed request', async () => {
  const repo = await classifierRepo({ max_batch_size: 8 });
  const engine = new Engine({ repository: repo, cores: 2 });
  const changes: string[] = [];
  const poller = new RepositoryPoller(engine, {
    intervalMs: 60_000,
    onChange: (c) => changes.push(`${c.action} ${c.model}${c.error ? `: ${c.error}` : ''}`),
  });
  let stop = false;
  try {
    await engine.loadAll();
    await poller.baseline();
    assert.deepEqual(await poller.poll(), [], 'nothing changed');
    // A closed loop on the classifier runs through every change below.
    const load = runClosedLoop(() => engine.infer(TEXT_ORIENTATION, { x: classifierInput(2) }), {
      concurrency: 4,
      until: () => stop,
    });

    await cloneModel(repo, TEXT_ORIENTATION, 'added');
    await poller.poll();
    assert.equal(engine.model('added').state, 'ready');

    // A new version folder of the loaded model: it reloads, and the newest version serves.
    await cp(path.join(repo, TEXT_ORIENTATION, '1'), path.join(repo, TEXT_ORIENTATION, '2'), { recursive: true });
    await poller.poll();
    assert.equal(engine.model(TEXT_ORIENTATION).version, 2);

    // A broken file fails its load and keeps the model serving as it was; fixing it reloads.
    await writeFile(path.join(repo, 'added', 'config.json'), '{ not json');
    await poller.poll();
    assert.equal(engine.model('added').state, 'ready', 'a failed reload keeps the old versions');
    assert.deepEqual(await poller.poll(), [], 'an unchanged broken folder is not tried again');

    await rm(path.join(repo, 'added'), { recursive: true });
    await poller.poll();
    assert.deepEqual(
      engine.index().find((r) => r.name === 'added'),
      { name: 'added', version: '', state: 'UNAVAILABLE', reason: 'unloaded' },
    );
    stop = true;
    const result = await load;
    assert.equal(result.failed, 0, `no request failed across the changes: ${String(result.firstError)}`);
    assert.ok(result.ok > 0);
    assert.deepEqual(
      changes.map((c) => c.split(':')[0]),
      ['load added', `reload ${TEXT_ORIENTATION}`, 'reload added', 'unload added'],
    );
    assert.match(changes[2], /config\.json: not valid JSON/);
  } finally {
    stop = true;
    poller.stop();
    await engine.close();
    await removeDir(repo);
  }
});
