import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { classifierInput } from '../fixtures/repo.js';
import { HttpClient } from '../../src/client/index.js';
import { serveClassifier, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier({ modelControlMode: 'explicit' })));
after(() => s.close());

test('a reload that changes only instance counts grows and shrinks in place, without a failed request', async () => {
  const client = new HttpClient(s.http);
  const config = await client.modelConfig(TEXT_ORIENTATION);
  const model = s.engine.model(TEXT_ORIENTATION);
  const first = model.instances[0];
  let stop = false;
  const errors: unknown[] = [];
  let done = 0;
  const x = classifierInput(4);
  const load = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (!stop)
        await client.infer(TEXT_ORIENTATION, { x }).then(
          () => done++,
          (e) => errors.push(e),
        );
    }),
  );

  try {
    await client.load(TEXT_ORIENTATION, { ...config, instance_group: [{ count: 3, kind: 'KIND_CPU' }] });
    assert.equal(s.engine.model(TEXT_ORIENTATION), model, 'the same model version object: not reloaded');
    assert.equal(model.instances.length, 3);
    // The thread budget is re-split: the one 2-thread instance gives way to 1-thread ones (started
    // and warmed before it drains), so the cores are not oversubscribed.
    assert.deepEqual(
      model.instances.map((i) => i.threads),
      [1, 1, 1],
    );
    assert.ok(!model.instances.includes(first), 'the 2-thread instance was replaced, not kept beside the new ones');
    assert.equal(
      ((await client.modelConfig(TEXT_ORIENTATION)) as { instance_group: { count: number }[] }).instance_group[0].count,
      3,
    );

    await client.load(TEXT_ORIENTATION, { ...config, instance_group: [{ count: 1, kind: 'KIND_CPU' }] });
    assert.equal(model.instances.length, 1);
  } finally {
    // However the assertions went, the load stops, so the test ends instead of hanging.
    stop = true;
    await load;
  }
  assert.deepEqual(errors, []);
  assert.ok(done > 4);
  assert.equal(s.engine.model(TEXT_ORIENTATION).state, 'ready');
});
