import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { classifierInput, cloneModel, writeRaw } from '../fixtures/repo.js';
import { serveClassifier, post, jsonInput, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

const SPARE = 'spare_model';
let s: Served;
before(async () => {
  s = await serveClassifier({ modelControlMode: 'explicit' }, async (repo) => {
    await cloneModel(repo, TEXT_ORIENTATION, SPARE);
    await writeRaw(repo, 'broken/1/model.onnx', 'not an onnx file');
  });
});
after(() => s.close());

const api = (p: string) => `${s.http}/v2/repository${p}`;
const infer = (model: string) =>
  post(`${s.http}/v2/models/${model}/infer`, { inputs: [jsonInput(classifierInput(1))] });

test('the index lists models on disk with the engine states; ready:true keeps the ready ones', async () => {
  await post(api(`/models/${SPARE}/unload`), {});
  const all = await post(api('/index'), {});
  assert.equal(all.status, 200);
  const byName = Object.fromEntries(all.body.map((r: { name: string }) => [r.name, r]));
  assert.equal(byName[TEXT_ORIENTATION].state, 'READY');
  assert.equal(byName[TEXT_ORIENTATION].version, '1');
  assert.equal(byName.broken.state, 'UNAVAILABLE');
  assert.ok(byName.broken.reason.length > 0, 'a failed model says why');
  assert.deepEqual(byName[SPARE], { name: SPARE, state: 'UNAVAILABLE', reason: 'unloaded' });
  const ready = await post(api('/index'), { ready: true });
  assert.deepEqual(
    ready.body.map((r: { name: string }) => r.name),
    [TEXT_ORIENTATION],
  );
});

test('unload refuses new requests with 503, load serves again', async () => {
  assert.equal((await post(api(`/models/${SPARE}/load`), {})).status, 200);
  assert.equal((await infer(SPARE)).status, 200);
  assert.equal((await post(api(`/models/${SPARE}/unload`), {})).status, 200);
  const refused = await infer(SPARE);
  assert.equal(refused.status, 503);
  assert.match(refused.body.error, /model "spare_model" is not ready: it is unavailable \(unloaded\)/);
  assert.equal((await post(api(`/models/${SPARE}/load`), {})).status, 200);
  assert.equal((await infer(SPARE)).status, 200);
});

test('load with a config override applies it; a bad override is a 400 and the old version keeps serving', async () => {
  const config = { name: SPARE, max_batch_size: 4, input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, 48, 192] }] };
  assert.equal(
    (await post(api(`/models/${SPARE}/load`), { parameters: { config: JSON.stringify(config) } })).status,
    200,
  );
  const cfg = await fetch(`${s.http}/v2/models/${SPARE}/config`).then((r) => r.json());
  assert.equal(cfg.max_batch_size, 4);

  const bad = await post(api(`/models/${SPARE}/load`), {
    parameters: { config: JSON.stringify({ ...config, max_batch_size: -3 }) },
  });
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /max_batch_size.*-3/);
  const notJson = await post(api(`/models/${SPARE}/load`), { parameters: { config: '{oops' } });
  assert.equal(notJson.status, 400);
  assert.match(notJson.body.error, /"config" of model "spare_model" is not valid JSON/);
  assert.equal((await infer(SPARE)).status, 200, 'the old version still serves');
});

test('loading a model that is not on disk is a 404 naming it', async () => {
  const r = await post(api('/models/ghost/load'), {});
  assert.equal(r.status, 404);
  assert.match(r.body.error, /unknown model "ghost"/);
});

test('in model control mode "none" load and unload are refused with 503 and a hint', async () => {
  const fixed = await serveClassifier({ modelControlMode: 'none' });
  try {
    const r = await post(`${fixed.http}/v2/repository/models/${TEXT_ORIENTATION}/unload`, {});
    assert.equal(r.status, 503);
    assert.match(r.body.error, /model control mode is "none".*--model-control-mode explicit/);
    assert.equal(
      (await post(`${fixed.http}/v2/models/${TEXT_ORIENTATION}/infer`, { inputs: [jsonInput(classifierInput(1))] }))
        .status,
      200,
    );
  } finally {
    await fixed.close();
  }
});
