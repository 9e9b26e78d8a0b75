import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveClassifier, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

const put = (body: unknown) =>
  fetch(`${s.http}/v2/placement`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test(
  'GET /v2/placement shows where instances run, PUT moves them live, ' +
    'and a placement that does not fit is refused with the reason',
  async () => {
    const view = await (await fetch(`${s.http}/v2/placement`)).json();
    assert.equal(view.mode, 'manual');
    assert.deepEqual(
      view.entries.map((e: { model: string; device: string; instances: number }) => [e.model, e.device, e.instances]),
      [[TEXT_ORIENTATION, 'cpu', 1]],
    );
    assert.ok(view.devices.some((d: { device: string }) => d.device === 'cpu'));

    const moved = await put({ entries: [{ model: TEXT_ORIENTATION, device: 'cpu', instances: 2, threads: 1 }] });
    assert.equal(moved.status, 200);
    assert.deepEqual(
      (await moved.json()).entries.map((e: { instances: number; threads: number }) => [e.instances, e.threads]),
      [[2, 1]],
    );
    assert.equal(s.engine.model(TEXT_ORIENTATION).instances.length, 2);

    const tooBig = await put({ entries: [{ model: TEXT_ORIENTATION, device: 'cpu', instances: 64, threads: 2 }] });
    assert.equal(tooBig.status, 400);
    assert.match(
      (await tooBig.json()).error,
      /placement refused: cpu: text_orientation 64 x 2 threads = 128 threads, the device has \d+ cores/,
    );
    const bad = await put({ entries: [{ model: 'nope', device: 'cpu', instances: 1 }] });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /model "nope" is not loaded/);
    const malformed = await put({ entries: 'all of them' });
    assert.equal(malformed.status, 400);
    assert.match((await malformed.json()).error, /"entries" must be a non-empty array/);
    assert.equal(s.engine.model(TEXT_ORIENTATION).instances.length, 2, 'refused placements changed nothing');
  },
);
