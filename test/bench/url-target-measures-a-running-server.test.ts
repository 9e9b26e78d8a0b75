import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UrlTarget } from '../../src/bench/url-target.js';
import { createInputSource, measure } from '../../src/bench/index.js';
import { withInstances } from '../../src/bench/config-overrides.js';
import { TEXT_ORIENTATION } from '../fixtures/repo.js';
import { servedClassifier } from '../fixtures/engine.js';

test(
  'a server over HTTP, gRPC and a gRPC stream is measured through the client, ' +
    'with its statistics and a reload by config override',
  async () => {
    const served = await servedClassifier();
    const { repo, engine, servers } = served;
    const targets = [
      new UrlTarget({ url: `http://127.0.0.1:${servers.httpPort}`, protocol: 'http' }),
      new UrlTarget({ url: `127.0.0.1:${servers.grpcPort}`, protocol: 'grpc', repository: repo }),
      new UrlTarget({ url: `127.0.0.1:${servers.grpcPort}`, protocol: 'grpc', repository: repo, streaming: true }),
    ];
    try {
      for (const target of targets) {
        assert.deepEqual(await target.models(), [TEXT_ORIENTATION]);
        const config = await target.config(TEXT_ORIENTATION);
        assert.equal(config.max_batch_size, 32);
        await target.load(TEXT_ORIENTATION, withInstances(config, 2));
        assert.equal(engine.model(TEXT_ORIENTATION).instances.length, 2, `${target.kind}: reloaded with 2 instances`);
        const meta = await target.metadata(TEXT_ORIENTATION);
        assert.deepEqual(meta.inputs, [{ name: 'x', datatype: 'FP32', dims: [3, 48, 192] }]);
        const inputs = await createInputSource(meta, { kind: 'random' }, 2);
        const m = await measure(
          target,
          [{ model: TEXT_ORIENTATION, load: { mode: 'concurrency', concurrency: 4 }, inputs }],
          {
            windowMs: 150,
            warmupMs: 100,
            stability: { threshold: 0.1, count: 3, maxWindows: 3 },
          },
        );
        const s = m.streams[0];
        assert.equal(s.errors, 0, `${target.description}: ${s.firstError}`);
        assert.ok(s.throughput > 0 && s.latencyMs.p50 > 0);
        assert.ok(
          s.server && s.server.requests > 0 && s.server.computeInferUs > 0,
          `${target.kind}: server split ${JSON.stringify(s.server)}`,
        );
        assert.equal(m.memory, null, 'a remote server does not tell its memory');
      }
    } finally {
      for (const t of targets) await t.close();
      await served.close();
    }
  },
);

test('streaming is refused for an HTTP target, by name', () => {
  assert.throws(
    () => new UrlTarget({ url: 'http://127.0.0.1:1', protocol: 'http', streaming: true }),
    /streaming is gRPC's \(ModelStreamInfer\): the http target http:\/\/127.0.0.1:1 cannot stream/,
  );
});
