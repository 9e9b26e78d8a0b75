/**
 * bench:soak: the fault and abuse run of issue 16, ending in one summary line. Four phases, each
 * against real servers on loopback:
 *
 * 1. Bad inputs: the fuzz corpus of test/server/fuzzed-requests-never-get-a-5xx.test.ts with
 *    FUZZ_RUNS runs per property (default 500) over HTTP and gRPC. It passes when no request got a
 *    5xx/INTERNAL for a client's error, none went unanswered, and the server kept serving.
 * 2. Steady load with faults: the text-orientation classifier on two process hosts, a closed loop
 *    of 8 HTTP clients for SOAK_MINUTES (default 2; the issue's soak is 10), kill -9 of one host
 *    every SOAK_KILL_EVERY_S (default 20 s), and meanwhile 200 idle keep-alive connections and 50
 *    slowloris clients (headers one byte a second). Every request is bounded (15 s): one past it is
 *    "lost". RSS of the server process and its hosts, and its handle count, sampled every 5 s; the
 *    growth is from the first sample after SOAK_WARMUP_S (default 20 s) to the last.
 * 3. Slow clients: each slowloris connection must have been closed by the server within the
 *    header timeout (2 s here) plus 4 s (Node checks once a second, from the first byte); the idle
 *    keep-alive ones after the keep-alive timeout.
 * 4. Shutdown: `tenancy serve` in its own process under 8 clients, then SIGTERM: every request
 *    sent is answered (200, or 503 while draining; after the listener closes a connection is
 *    refused, or reset from the listen backlog) and the process exits 0.
 *
 * Exit code 0 when nothing was lost, nothing crashed and no client error got a 5xx.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { Engine } from '../src/index.js';
import { HttpClient } from '../src/client/index.js';
import { startServers } from '../src/server/index.js';
import { runClosedLoop } from '../src/bench/closed-loop.js';
import { patchConfig, removeDir, tempDir } from '../src/bench/scratch-repo.js';
import { TEXT_ORIENTATION, writeTextOrientationModel } from '../src/default-repository.js';
import type { Tensor } from '../src/tensor.js';
import { FREE_PORTS, startServe, Tally } from '../test/fixtures/serve-process.js';

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const MINUTES = Number(process.env.SOAK_MINUTES ?? 2);
const KILL_EVERY_S = Number(process.env.SOAK_KILL_EVERY_S ?? 20);
const WARMUP_S = Number(process.env.SOAK_WARMUP_S ?? 20);
const HEADER_TIMEOUT_MS = 2_000;
const KEEP_ALIVE_MS = 5_000;
const SLOW_CLIENTS = 50;
const IDLE_CONNECTIONS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function input(batch: number): Tensor {
  const data = new Float32Array(batch * 3 * 48 * 192);
  for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 255) / 255;
  return { datatype: 'FP32', shape: [batch, 3, 48, 192], data };
}

async function classifierRepo(changes: Record<string, unknown>): Promise<string> {
  const repo = await tempDir('tenancy-soak-');
  await writeTextOrientationModel(repo, { instances: 1 });
  await patchConfig(repo, TEXT_ORIENTATION, changes);
  return repo;
}

/** Phase 1: the fuzz corpus, longer; returns the requests it sent and whether every property held. */
async function badInputs(): Promise<{ requests: number; passed: boolean; detail: string }> {
  const file = 'test/server/fuzzed-requests-never-get-a-5xx.test.ts';
  const out = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--test', file], {
    env: { ...process.env, FUZZ_RUNS: String(FUZZ_RUNS) },
    maxBuffer: 64 * 2 ** 20,
  }).then(
    (r) => ({ ok: true, text: r.stdout }),
    (err: { stdout?: string }) => ({ ok: false, text: err.stdout ?? '' }),
  );
  const count = (label: string) => Number(new RegExp(`^# ${label} (\\d+)$`, 'm').exec(out.text)?.[1] ?? 0);
  const properties = count('pass');
  const failed = count('fail');
  // Each property sends one generated request per run (plus a good one after it).
  return {
    requests: (properties + failed) * FUZZ_RUNS,
    passed: out.ok && failed === 0,
    detail: `${properties} properties held, ${failed} failed`,
  };
}

/** A slowloris client: sends a request's headers one byte a second; resolves with how long the server let it live. */
function slowClient(port: number): { closedAfterMs: Promise<number> } {
  const start = performance.now();
  const socket = net.connect(port, '127.0.0.1');
  const head = `POST /v2/models/${TEXT_ORIENTATION}/infer HTTP/1.1\r\nHost: box\r\nX-Slow: `;
  let i = 0;
  const tick = setInterval(() => {
    if (!socket.destroyed) socket.write(i < head.length ? head[i++] : 'a');
  }, 1000);
  socket.on('error', () => {});
  const closedAfterMs = new Promise<number>((resolve) =>
    socket.on('close', () => {
      clearInterval(tick);
      resolve(performance.now() - start);
    }),
  );
  return { closedAfterMs };
}

/** An idle keep-alive connection after one answered request; resolves with how long it stayed open after it. */
function idleConnection(port: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write('GET /v2/health/live HTTP/1.1\r\nHost: box\r\nConnection: keep-alive\r\n\r\n'),
    );
    let answeredAt = 0;
    socket.on('data', () => {
      answeredAt ||= performance.now();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(answeredAt ? performance.now() - answeredAt : Number.NaN));
  });
}

interface SteadyResult {
  tally: Tally;
  kills: number;
  rssStartMB: number;
  rssEndMB: number;
  handlesStart: number;
  handlesEnd: number;
  slowHeldMs: number[];
  idleHeldMs: number[];
  replaced: boolean;
}

/** Phases 2 and 3. */
async function steady(): Promise<SteadyResult> {
  const repo = await classifierRepo({ max_batch_size: 8, instance_group: [{ count: 2, host: 'process' }] });
  const engine = new Engine({ repository: repo, cores: 2 });
  await engine.loadAll();
  const servers = await startServers(engine, {
    httpPort: 0,
    grpcPort: null,
    metricsPort: null,
    connections: { headersTimeoutMs: HEADER_TIMEOUT_MS, keepAliveTimeoutMs: KEEP_ALIVE_MS },
  });
  const port = servers.httpPort!;
  const clients = Array.from({ length: 8 }, () => new HttpClient(`http://127.0.0.1:${port}`));
  const tally = new Tally();
  const model = engine.model(TEXT_ORIENTATION);
  const rss = () =>
    (process.memoryUsage.rss() + model.instances.reduce((n, i) => n + (i.memoryBytes ?? 0), 0)) / 2 ** 20;
  const handles = () => process.getActiveResourcesInfo().length;
  const endAt = performance.now() + MINUTES * 60_000;
  let next = 0;
  let kills = 0;
  const samples: { rss: number; handles: number; atS: number }[] = [];
  const t0 = performance.now();
  try {
    const load = runClosedLoop(
      () => {
        const c = clients[next++ % clients.length];
        return tally.send(() => c.infer(TEXT_ORIENTATION, { x: input(4) }));
      },
      { concurrency: 8, until: () => performance.now() >= endAt },
    );
    const sampler = setInterval(
      () => samples.push({ rss: rss(), handles: handles(), atS: (performance.now() - t0) / 1000 }),
      5000,
    );
    const killer = setInterval(() => {
      const victim = model.instances.find((i) => i.state === 'ready' && i.pid !== undefined);
      if (victim && performance.now() < endAt - 5000) {
        process.kill(victim.pid!, 'SIGKILL');
        kills++;
      }
    }, KILL_EVERY_S * 1000);
    // Slow and idle clients arrive a little into the run and live alongside the load.
    await sleep(Math.min(5000, MINUTES * 20_000));
    const slow = Array.from({ length: SLOW_CLIENTS }, () => slowClient(port).closedAfterMs);
    const idle = Array.from({ length: IDLE_CONNECTIONS }, () => idleConnection(port));
    const [slowHeldMs, idleHeldMs] = await Promise.all([Promise.all(slow), Promise.all(idle)]);
    await load;
    clearInterval(sampler);
    clearInterval(killer);
    for (let i = 0; i < 100 && model.instances.filter((x) => x.state === 'ready').length < 2; i++) await sleep(100);
    const replaced = model.instances.filter((x) => x.state === 'ready').length === 2;
    const after = samples.filter((s) => s.atS >= WARMUP_S);
    const first = after[0] ?? samples[0];
    const last = samples.at(-1) ?? first;
    return {
      tally,
      kills,
      rssStartMB: first?.rss ?? Number.NaN,
      rssEndMB: last?.rss ?? Number.NaN,
      handlesStart: first?.handles ?? Number.NaN,
      handlesEnd: last?.handles ?? Number.NaN,
      slowHeldMs,
      idleHeldMs,
      replaced,
    };
  } finally {
    for (const c of clients) c.close();
    await servers.close();
    await engine.close();
    await removeDir(repo);
  }
}

/** Phase 4. */
async function shutdown(): Promise<{ tally: Tally; exitCode: number | null; answeredOnly: boolean }> {
  const repo = await classifierRepo({ max_batch_size: 8 });
  const clients: HttpClient[] = [];
  const serve = await startServe(['--repo', repo, '--profiles', 'none', ...FREE_PORTS]);
  try {
    let gone = false;
    void serve.exited.then(() => (gone = true));
    for (let i = 0; i < 8; i++) clients.push(new HttpClient(serve.url));
    const tally = new Tally();
    let next = 0;
    const load = runClosedLoop(
      () => {
        const c = clients[next++ % clients.length];
        return tally.send(() => c.infer(TEXT_ORIENTATION, { x: input(8) }));
      },
      { concurrency: 8, until: () => gone },
    );
    await sleep(2000);
    const exitCode = await serve.stop();
    await load;
    // After the listener closes a connection is refused, or reset if the kernel had completed it in
    // the listen backlog: requests the server never accepted.
    const notAccepted = new Set(['503', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE']);
    const answeredOnly = [...tally.failures.keys()].every((k) => notAccepted.has(k));
    return { tally, exitCode, answeredOnly };
  } finally {
    for (const c of clients) c.close();
    serve.child.kill('SIGKILL');
    await removeDir(repo);
  }
}

const max = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0);

async function main(): Promise<void> {
  console.log(
    `bench:soak: ${FUZZ_RUNS} fuzz runs per property, ${MINUTES} min steady load, kill -9 every ${KILL_EVERY_S} s`,
  );
  const bad = await badInputs();
  console.log(`bad inputs: ${bad.requests} generated requests over HTTP and gRPC: ${bad.detail}`);
  const run = await steady();
  console.log(`steady load: ${run.tally.describe()}; kills ${run.kills}; instances replaced: ${run.replaced}`);
  const slowMax = max(run.slowHeldMs);
  // Node checks the header timeout once a second, counted from the first byte: it closes such a client
  // about 2 s after the timeout on an idle server, 3 s under this load.
  const slowHeld = run.slowHeldMs.filter((ms) => ms > HEADER_TIMEOUT_MS + 4000).length;
  console.log(
    `slow clients: ${SLOW_CLIENTS} slowloris closed after at most ${(slowMax / 1000).toFixed(1)} s ` +
      `(header timeout ${HEADER_TIMEOUT_MS / 1000} s), ${slowHeld} held longer; ` +
      `${IDLE_CONNECTIONS} idle keep-alive closed after at most ${(max(run.idleHeldMs) / 1000).toFixed(1)} s`,
  );
  const rssGrowth = run.rssEndMB - run.rssStartMB;
  console.log(
    `memory: RSS (server + hosts) ${run.rssStartMB.toFixed(0)} -> ${run.rssEndMB.toFixed(0)} MB, ` +
      `handles ${run.handlesStart} -> ${run.handlesEnd}`,
  );
  const stop = await shutdown();
  console.log(`shutdown: SIGTERM under 8 clients: ${stop.tally.describe()}; exit code ${stop.exitCode}`);
  // Only the batch running on a killed host may fail (<= 2 requests of 4 rows at max batch 8).
  const failedOk = run.tally.failed <= 2 * run.kills && [...run.tally.failures.keys()].every((k) => k === '500');
  const pass =
    bad.passed &&
    run.tally.lost === 0 &&
    failedOk &&
    run.replaced &&
    slowHeld === 0 &&
    stop.exitCode === 0 &&
    stop.tally.lost === 0 &&
    stop.answeredOnly;
  const shutdownOk = stop.tally.lost === 0 && stop.answeredOnly && stop.exitCode === 0;
  console.log(
    `${bad.requests} bad inputs over HTTP and gRPC: ` +
      `${bad.passed ? '0 crashes, 0 hangs, 0 5xx for client errors' : 'FAILED (see above)'}; ` +
      `kills ${run.kills}, requests ${run.tally.ok}/${run.tally.failed}/${run.tally.lost} ok/failed/lost; ` +
      `shutdown ${shutdownOk ? 'in-flight answered, exit 0' : 'FAILED'}; ` +
      `slow clients ${slowHeld === 0 ? 'cut off' : `${slowHeld} held`}; ` +
      `RSS ${rssGrowth >= 0 ? '+' : ''}${rssGrowth.toFixed(1)} MB over ${MINUTES} min` +
      ` -> ${pass ? 'PASS' : 'FAIL'}`,
  );
  process.exitCode = pass ? 0 : 1;
}

await main();
