import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { classifierRepo, classifierInput, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';
import { HttpClient } from '../../src/client/index.js';
import { FREE_PORTS, startServe } from '../fixtures/serve-process.js';

test(
  'tenancy serve prints its URLs and tuning, serves, ' + 'and on SIGTERM finishes in-flight requests and exits 0',
  async () => {
    // Instances stated, batching left out: the live tuner may tune batching only.
    const repo = await classifierRepo({ max_batch_size: 64, dynamic_batching: undefined });
    const db = path.join(repo, 'profiles.db');
    const serve = await startServe(['--repo', repo, ...FREE_PORTS, '--profiles', db]);
    const { url } = serve;
    try {
      const out = serve.output();
      assert.match(out, /gRPC {7}127\.0\.0\.1:\d+/);
      assert.match(out, /metrics {4}http:\/\/127\.0\.0\.1:\d+\/metrics/);
      assert.doesNotMatch(out, /node runs without/, 'started with the heap flags: no warning');
      assert.match(out, /placement tune\)/);
      assert.ok(
        out.includes(
          `live tuning (remembered in ${db}):\n  ${TEXT_ORIENTATION}: default: ` +
            'serving the measured defaults; tuned (batch size, queue delay) as soon as requests keep it busy',
        ),
        out,
      );
      const client = new HttpClient(url);
      assert.equal(await client.ready(), true);
      const view = (await (await fetch(`${url}/v2/placement`)).json()) as {
        mode: string;
        models: { source: string; tuning: { state: string; configuration: string } }[];
      };
      assert.equal(view.mode, 'tune');
      assert.deepEqual(
        [view.models[0].source, view.models[0].tuning.state, view.models[0].tuning.configuration],
        ['defaults', 'default', '1 instance x 2 threads, batch up to 4, no queue delay'],
      );
      const metricsUrl = out.match(/metrics {4}(http:\/\/127\.0\.0\.1:\d+\/metrics)/)![1];
      const metrics = await (await fetch(metricsUrl)).text();
      assert.match(
        metrics,
        new RegExp(`tenancy_model_tuning_state\\{model="${TEXT_ORIENTATION}",state="default"\\} 1`),
      );
      const inFlight = Array.from({ length: 3 }, () => client.infer(TEXT_ORIENTATION, { x: classifierInput(48) }));
      await new Promise((r) => setTimeout(r, 20));
      const stopped = serve.stop();
      const results = await Promise.all(inFlight);
      assert.equal(results.length, 3, 'every request in flight was answered');
      assert.equal(await stopped, 0, serve.output());
      assert.match(serve.output(), /SIGTERM: finishing requests in flight[\s\S]*stopped/);
    } finally {
      serve.child.kill('SIGKILL');
      await removeDir(repo);
    }
  },
);
