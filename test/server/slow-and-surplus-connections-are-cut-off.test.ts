import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import http2 from 'node:http2';
import { GrpcClient } from '../../src/client/index.js';
import { serveClassifier, post, jsonInput, TEXT_ORIENTATION, type Served } from './serve-fixture.js';
import { classifierInput } from '../fixtures/repo.js';

// A client that sent its headers slowly held its connection ~76 s, one that sent its body slowly
// held it forever, and nothing capped the number of connections. Each limit is now a setting
// (ServerOptions.connections; `tenancy serve --http-*`). The bounds below are far above the
// settings: they say "cut off", not how fast.
let s: Served;
const LIMITS = {
  headersTimeoutMs: 300,
  requestTimeoutMs: 600,
  keepAliveTimeoutMs: 300,
  maxConnections: 6,
  grpcIdleTimeoutMs: 400,
  grpcMaxConnections: 6,
};
before(async () => (s = await serveClassifier({ connections: LIMITS })));
after(() => s.close());

interface Ending {
  ms: number;
  reply: string;
}

/** Opens a raw connection, writes `parts` one every `everyMs`, and resolves when the server closes it. */
function trickle(parts: string[], everyMs: number, giveUpMs = 10_000, port = s.servers.httpPort!): Promise<Ending> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    let i = 0;
    const timer = setInterval(() => {
      if (i < parts.length && socket.writable) socket.write(parts[i++]);
    }, everyMs);
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection for ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (d) => (reply += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ ms: Date.now() - t0, reply });
    });
  });
}

const path = `/v2/models/${TEXT_ORIENTATION}/infer`;

test('a client that sends its headers slowly gets 408 and its connection closed', async () => {
  const headers = [
    `POST ${path} HTTP/1.1\r\n`,
    'Host: x\r\n',
    ...Array.from({ length: 200 }, (_, i) => `X-Slow-${i}: 1\r\n`),
  ];
  const end = await trickle(headers, 50);
  assert.match(end.reply, /^HTTP\/1\.1 408/);
  assert.ok(end.ms < 5000, `closed after ${end.ms} ms`);
});

test('a client that sends its body slowly gets 408 and its connection closed', async () => {
  const body = Array.from({ length: 200 }, () => 'x');
  const end = await trickle(
    [`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`, ...body],
    50,
  );
  assert.match(end.reply, /^HTTP\/1\.1 408/);
  assert.ok(end.ms < 5000, `closed after ${end.ms} ms`);
});

test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
  const end = await trickle(['GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n'], 1);
  assert.match(end.reply, /^HTTP\/1\.1 200/);
  assert.match(end.reply, /Keep-Alive: timeout=0|Keep-Alive: timeout=\d/i);
  assert.ok(end.ms < 5000, `closed after ${end.ms} ms`);
});

test('connections past the cap are closed as they arrive, and the server serves once they go', async () => {
  const held = await Promise.all(
    Array.from(
      { length: LIMITS.maxConnections },
      () =>
        new Promise<net.Socket>((resolve) => {
          const c = net.connect(s.servers.httpPort!, '127.0.0.1', () => resolve(c));
          c.on('error', () => {});
        }),
    ),
  );
  try {
    await new Promise((r) => setTimeout(r, 50));
    const extra = await trickle([`GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n`], 1, 3000);
    assert.equal(extra.reply, '', 'the surplus connection is closed without an answer');
  } finally {
    for (const c of held) c.destroy();
  }
  await new Promise((r) => setTimeout(r, 50));
  const ok = await post(`${s.http}${path}`, { inputs: [jsonInput(classifierInput(1))] });
  assert.equal(ok.status, 200);
});

test('gRPC: a connection that never opens its HTTP/2 session is closed after the header timeout', async () => {
  const end = await trickle([], 1, 10_000, s.servers.grpcPort!);
  assert.ok(end.ms < 5000, `closed after ${end.ms} ms`);
});

test(
  'gRPC: a connection with no call gets GOAWAY after the idle timeout; ' + 'a client reconnects on its next call',
  async () => {
    const t0 = Date.now();
    const session = http2.connect(`http://127.0.0.1:${s.servers.grpcPort}`);
    session.on('error', () => {});
    await new Promise((resolve) => session.once('goaway', resolve));
    assert.ok(Date.now() - t0 < 5000, `GOAWAY after ${Date.now() - t0} ms`);
    session.destroy();
    const client = new GrpcClient(s.grpc);
    try {
      assert.equal(await client.ready(), true);
      await new Promise((r) => setTimeout(r, LIMITS.grpcIdleTimeoutMs * 3));
      assert.equal(await client.ready(), true, 'the next call after an idle close is served');
    } finally {
      client.close();
    }
  },
);

test('gRPC: connections past the cap are closed as they arrive', async () => {
  const held = Array.from({ length: LIMITS.grpcMaxConnections }, () => {
    const c = http2.connect(`http://127.0.0.1:${s.servers.grpcPort}`);
    c.on('error', () => {});
    return c;
  });
  try {
    await Promise.all(held.map((c) => new Promise((r) => c.once('remoteSettings', r))));
    const extra = await trickle([], 1, 3000, s.servers.grpcPort!);
    assert.equal(extra.reply, '', 'the surplus connection is closed without an answer');
  } finally {
    for (const c of held) c.destroy();
  }
});

test('tenancy serve refuses connection settings that cannot work, with one error line and no stack trace', () => {
  for (const [args, message] of [
    [
      ['--http-header-timeout', '0'],
      /--http-header-timeout <ms>' argument '0' is invalid\. expected milliseconds \(an integer >= 1\)/,
    ],
    [['--http-max-connections', 'many'], /expected a number of connections/],
    [
      ['--http-header-timeout', '5000', '--http-request-timeout', '1000'],
      /--http-header-timeout \(5000 ms\) must not exceed --http-request-timeout \(1000 ms\)/,
    ],
  ] as const) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', ...args], {
      encoding: 'utf8',
    });
    assert.ok(r.status !== null && r.status !== 0, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr.split('\n')[0], message);
    assert.doesNotMatch(r.stderr, /^\s+at .*:\d+:\d+\)?$/m, r.stderr);
  }
});
