import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { classifierInput } from '../fixtures/repo.js';
import { serveClassifier, post, get, jsonInput, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

test('statistics count successes, failures, inferences and executions, with durations in ns', async () => {
  const url = `${s.http}/v2/models/${TEXT_ORIENTATION}/infer`;
  assert.equal((await post(url, { inputs: [jsonInput(classifierInput(2))] })).status, 200);
  assert.equal((await post(url, { inputs: [jsonInput(classifierInput(1))] })).status, 200);
  // A 1 µs deadline (the protocol's timeout parameter) fails the request: Triton answers 503. The
  // request is a batch of 32, a run of several ms, so the deadline's timer (>= 1 ms) always fires
  // first; a 1-row run (~1 ms) could win that race on an idle instance.
  const late = await post(url, { inputs: [jsonInput(classifierInput(32))], parameters: { timeout: 1 } });
  assert.equal(late.status, 503);
  assert.match(late.body.error, /timed out after 0.001 ms/);
  for (const path of [
    '/v2/models/stats',
    `/v2/models/${TEXT_ORIENTATION}/stats`,
    `/v2/models/${TEXT_ORIENTATION}/versions/1/stats`,
  ]) {
    const r = await get(s.http + path);
    assert.equal(r.status, 200, path);
    assert.equal(r.body.model_stats.length, 1);
    const m = r.body.model_stats[0];
    assert.equal(m.name, TEXT_ORIENTATION);
    assert.equal(m.version, '1');
    assert.ok(m.inference_stats.success.count >= 2);
    assert.ok(m.inference_stats.fail.count >= 1, 'the timed-out request counts as a failure');
    assert.ok(m.inference_count >= 3, 'a batch of 2 counts 2 inferences');
    assert.ok(m.execution_count >= 2);
    for (const k of ['success', 'fail', 'queue', 'compute_input', 'compute_infer', 'compute_output']) {
      assert.equal(typeof m.inference_stats[k].count, 'number', k);
      assert.equal(typeof m.inference_stats[k].ns, 'number', k);
    }
    assert.ok(m.inference_stats.compute_infer.ns > 0);
    assert.ok(m.last_inference > 0);
  }
});

test('statistics of an unknown model or version are a 404 naming it', async () => {
  const a = await get(`${s.http}/v2/models/nope/stats`);
  assert.equal(a.status, 404);
  assert.match(a.body.error, /unknown model "nope"/);
  const b = await get(`${s.http}/v2/models/${TEXT_ORIENTATION}/versions/3/stats`);
  assert.equal(b.status, 404);
  assert.match(b.body.error, /no loaded version 3/);
});
