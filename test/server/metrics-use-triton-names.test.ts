import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { classifierInput } from '../fixtures/repo.js';
import { serveClassifier, post, jsonInput, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

test(
  "GET /metrics on its own port serves Triton's metric names with model and version labels, " +
    "from the engine's stats",
  async () => {
    for (let i = 0; i < 3; i++)
      await post(`${s.http}/v2/models/${TEXT_ORIENTATION}/infer`, { inputs: [jsonInput(classifierInput(2))] });
    await post(`${s.http}/v2/models/${TEXT_ORIENTATION}/infer`, {
      inputs: [jsonInput(classifierInput(1))],
      outputs: [{ name: 'nope' }],
    });
    const res = await fetch(s.metrics);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    const value = (name: string) => {
      const m = text.match(new RegExp(`^${name}\\{model="${TEXT_ORIENTATION}",version="1"\\} (\\S+)$`, 'm'));
      assert.ok(m, `${name} is exported for the model`);
      return Number(m[1]);
    };
    const stats = s.engine.stats(TEXT_ORIENTATION)[0];
    assert.equal(value('nv_inference_request_success'), stats.inference_stats.success.count);
    assert.equal(value('nv_inference_request_failure'), stats.inference_stats.fail.count);
    assert.equal(value('nv_inference_count'), stats.inference_count);
    assert.equal(value('nv_inference_exec_count'), stats.execution_count);
    assert.equal(value('nv_inference_pending_request_count'), 0);
    for (const n of ['request', 'queue', 'compute_input', 'compute_infer', 'compute_output'])
      assert.ok(value(`nv_inference_${n}_duration_us`) >= 0);
    assert.ok(value('nv_inference_compute_infer_duration_us') > 0);
    assert.match(text, /^# TYPE nv_inference_request_success counter$/m);
    assert.match(text, /^nv_cpu_utilization \d/m);
    assert.match(text, /^nv_cpu_memory_total_bytes \d+/m);
    assert.match(text, /^nv_cpu_memory_used_bytes \d+/m);
    assert.match(
      text,
      new RegExp(
        `^tenancy_model_instances\\{model="${TEXT_ORIENTATION}",version="1",device="cpu",host="thread"\\} 1$`,
        'm',
      ),
    );
    assert.match(
      text,
      new RegExp(`^tenancy_model_configuration\\{model="${TEXT_ORIENTATION}",version="1",source="config"\\} 1$`, 'm'),
      "the fixture's config states its instances",
    );
    assert.match(
      text,
      new RegExp(
        `^tenancy_instance_state\\{model="${TEXT_ORIENTATION}",version="1",` +
          `instance="${TEXT_ORIENTATION}:1#0",state="ready"\\} 1$`,
        'm',
      ),
    );
    assert.match(text, /^tenancy_process_resident_memory_bytes \d+/m);

    // The engine's latency distribution as a histogram: cumulative buckets at powers of two of
    // microseconds, +Inf and _count the successful requests, _sum their time (as the counter's success part).
    assert.match(text, /^# TYPE tenancy_inference_request_duration_us histogram$/m);
    const labels = `model="${TEXT_ORIENTATION}",version="1"`;
    const buckets = [
      ...text.matchAll(
        new RegExp(`^tenancy_inference_request_duration_us_bucket\\{${labels},le="([^"]+)"\\} (\\S+)$`, 'gm'),
      ),
    ].map((m) => [m[1], Number(m[2])] as const);
    assert.equal(buckets[0][0], '64');
    assert.equal(buckets.at(-1)?.[0], '+Inf');
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(buckets[i][1] >= buckets[i - 1][1], 'cumulative');
      if (i < buckets.length - 1) assert.equal(Number(buckets[i][0]), 2 * Number(buckets[i - 1][0]));
    }
    const success = stats.inference_stats.success;
    assert.equal(buckets.at(-1)?.[1], success.count);
    assert.equal(value('tenancy_inference_request_duration_us_count'), success.count);
    assert.ok(Math.abs(value('tenancy_inference_request_duration_us_sum') - success.ns / 1e3) < success.count);
  },
);

test('the metrics port answers other paths with a 404 naming /metrics', async () => {
  const res = await fetch(s.metrics.replace('/metrics', '/other'));
  assert.equal(res.status, 404);
  assert.match(await res.text(), /metrics are at GET \/metrics/);
});
