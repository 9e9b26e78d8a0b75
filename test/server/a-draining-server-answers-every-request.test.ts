import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import type { Engine } from '../../src/index.js';
import { serveClassifier, jsonInput, TEXT_ORIENTATION } from './serve-fixture.js';

// A request sent on an idle keep-alive connection just after SIGTERM was reset with no answer:
// the server dropped its idle connections and its listener at once. Now a draining server reads
// and answers whatever arrives (503, Connection: close), finishes what is in flight, then closes.

/** Resolves once the engine has received `n` requests in all and holds one (queued or running). */
async function running(engine: Engine, n: number): Promise<void> {
  const received = () => engine.loaded().reduce((sum, m) => sum + m.received, 0);
  const holding = () => engine.loaded().some((m) => m.inflight + m.queued > 0);
  while (received() < n || !holding()) await new Promise((r) => setTimeout(r, 2));
}

interface Answer {
  status: number | 'error';
  connection?: string;
  error?: string;
}

function postOn(agent: http.Agent, port: number, body: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/v2/models/${TEXT_ORIENTATION}/infer`,
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 'error', error: err.code ?? err.message }));
    req.end(body);
  });
}

test(
  'requests sent on idle keep-alive connections right after close() get 503 with Connection: close; ' +
    'those in flight finish',
  async () => {
    const s = await serveClassifier({}, async () => {}, { max_batch_size: 64 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const port = s.servers.httpPort!;
    const small = JSON.stringify({ inputs: [jsonInput(classifierInput(1))] });
    try {
      // Eight idle keep-alive connections, then one long request in flight on a ninth.
      const warm = await Promise.all(Array.from({ length: 8 }, () => postOn(agent, port, small)));
      assert.ok(warm.every((a) => a.status === 200));
      // Several large requests in flight keep the server draining for a while (a single one ended
      // before the last check on a fast machine, and the listener was rightly closed by then).
      const client = new HttpClient(s.http);
      const inFlight = Array.from({ length: 6 }, () => client.infer(TEXT_ORIENTATION, { x: classifierInput(64) }));
      // All six must be in the engine before close(): one still on the wire would rightly get a 503.
      await running(s.engine, warm.length + inFlight.length);
      const closed = s.servers.close();
      // At once, and a little later, on the idle connections (and on new ones once they close).
      const [atOnce, health] = await Promise.all([
        Promise.all(Array.from({ length: 8 }, () => postOn(agent, port, small))),
        fetch(`http://127.0.0.1:${port}/v2/health/ready`),
      ]);
      assert.equal(health.status, 400, 'not ready while draining');
      await new Promise((r) => setTimeout(r, 50));
      const later = await Promise.all(Array.from({ length: 8 }, () => postOn(agent, port, small)));
      for (const a of [...atOnce, ...later]) assert.deepEqual(a, { status: 503, connection: 'close' });
      for (const r of await Promise.all(inFlight))
        assert.deepEqual(r.outputs['softmax_0.tmp_0'].shape, [64, 2], 'every request in flight is answered');
      await closed;
    } finally {
      agent.destroy();
      await s.close();
    }
  },
);

test(
  'gRPC: a call in flight at close() finishes OK and a call after it is refused with UNAVAILABLE, ' +
    'not left hanging',
  async () => {
    const s = await serveClassifier({}, async () => {}, { max_batch_size: 64 });
    const client = new GrpcClient(s.grpc);
    try {
      assert.equal(await client.ready(), true);
      const inFlight = client.infer(TEXT_ORIENTATION, { x: classifierInput(64) });
      await running(s.engine, 1);
      const closed = s.servers.close();
      const after = await client.infer(TEXT_ORIENTATION, { x: classifierInput(1) }).then(
        () => 'ok',
        (err: { status: number }) => err.status,
      );
      assert.equal(after, grpc.status.UNAVAILABLE);
      assert.deepEqual((await inFlight).outputs['softmax_0.tmp_0'].shape, [64, 2]);
      await closed;
    } finally {
      client.close();
      await s.close();
    }
  },
);
