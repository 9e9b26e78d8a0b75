import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lifecycle, type ModelState } from '../../src/engine/lifecycle.js';
import { Engine } from '../../src/index.js';
import type { ModelView } from '../../src/engine/index.js';
import { classifierRepo, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

const STATES: ModelState[] = ['loading', 'ready', 'unloading', 'unavailable'];
/** The moves a model version may make; every other pair is a defect of the engine. */
const ALLOWED = new Set([
  'loading>ready',
  'loading>unavailable',
  'loading>unloading',
  'ready>unloading',
  'ready>unavailable',
  'unavailable>unloading',
  'unloading>unavailable',
]);

/** A lifecycle brought to `state` by allowed moves. */
function at(state: ModelState): Lifecycle {
  const life = new Lifecycle('model "m" version 1');
  const path: Record<ModelState, ModelState[]> = {
    loading: [],
    ready: ['ready'],
    unloading: ['unloading'],
    unavailable: ['unavailable'],
  };
  for (const s of path[state]) life.move(s, s === 'unavailable' ? 'why' : '');
  return life;
}

test('every pair of states: allowed moves happen with their reason, the others throw and change nothing', () => {
  for (const from of STATES)
    for (const to of STATES) {
      const life = at(from);
      if (ALLOWED.has(`${from}>${to}`)) {
        life.move(to, 'because');
        assert.equal(life.state, to);
        assert.equal(life.reason, 'because');
      } else {
        assert.throws(() => life.move(to), { code: 'INTERNAL', message: new RegExp(`from ${from} to ${to}`) });
        assert.equal(life.state, from, `${from} stays after a refused move to ${to}`);
        assert.equal(life.tryMove(to), false);
      }
    }
});

test(
  'the index reads one owner per version: ready, ' + 'unloading while it drains, unavailable "unloaded" after',
  async () => {
    const repo = await classifierRepo({ max_batch_size: 8 });
    const engine = new Engine({ repository: repo, cores: 2 });
    try {
      await engine.loadAll();
      assert.deepEqual(engine.index(), [{ name: TEXT_ORIENTATION, version: '1', state: 'READY', reason: '' }]);
      const view = engine.model(TEXT_ORIENTATION);
      const unloading = engine.unload(TEXT_ORIENTATION);
      assert.equal(view.state, 'unloading', 'refuses new requests from the moment the unload begins');
      assert.deepEqual(engine.index(), [{ name: TEXT_ORIENTATION, version: '1', state: 'UNLOADING', reason: '' }]);
      await unloading;
      assert.equal(view.state, 'unavailable');
      assert.equal(view.instances.length, 0, 'no instance left running');
      assert.deepEqual(engine.index(), [
        { name: TEXT_ORIENTATION, version: '', state: 'UNAVAILABLE', reason: 'unloaded' },
      ]);
      await assert.rejects(engine.infer(TEXT_ORIENTATION, {}), { code: 'UNAVAILABLE' });
      // @ts-expect-error front ends get a read-only view: its state has no setter
      assert.throws(() => (view.state = 'ready'), TypeError);
    } finally {
      await engine.close();
      await removeDir(repo);
    }
  },
);

/** Never run: tsc (`npm run lint`) checks that the view offers no way to change the model. */
export function viewIsReadOnly(view: ModelView): void {
  // @ts-expect-error instances cannot be added through the view
  view.instances.push(view.instances[0]);
  // @ts-expect-error no handle to stop an instance
  view.instances[0].stop();
  // @ts-expect-error no unload, reconfigure or infer on the view: those go through the Engine
  view.unload();
  // @ts-expect-error the latency histogram is read through snapshots; only the engine records
  view.latency.record(1);
  // @ts-expect-error the crashes the engine recorded cannot be added to or changed
  view.crashes.push(view.crashes[0]);
}
