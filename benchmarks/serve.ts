/**
 * npm run bench:serve: what the protocol front ends cost. MobileNet V2 (zoo, BENCH_INSTANCES
 * instances) in one engine, served over HTTP and gRPC by this process. The same closed loop
 * (N requests always outstanding, batch 1, the same input) drives, at concurrency 1 and 8:
 *   in-process   engine.infer, called in this (the server's) process;
 *   HTTP binary  the package's HttpClient with binary tensor data,
 *   HTTP JSON    the same with JSON tensors,
 *   gRPC         the package's GrpcClient (raw_input_contents),
 *   gRPC stream  the same requests on one ModelStreamInfer call (Triton's streaming API),
 *   HTTP shm     HttpClient with the input in system shared memory (Triton's extension: the
 *   gRPC shm     client writes each input into /dev/shm, the request names it; the output comes
 *                back in the response), what a client on the same box can use,
 * the three remote modes from a separate client process (benchmarks/serve-client.ts, forked once), as
 * perf_analyzer does: the load generator never shares the server's CPU time slice or event loop.
 * Every setting runs at the same placement, interleaved in short rounds (all modes, then again)
 * so that noise on this shared machine hits every mode alike. This machine drifts 20-40% within a
 * minute, so the ratio that decides the goal (HTTP binary and gRPC >= 0.9 of in-process at
 * concurrency 8) is the median over rounds of each round's ratio, as bench:batching does; the
 * table also gives totals over the rounds.
 * Prints inferences/s, p50/p99 latency (nearest rank), the ratios to in-process, and where
 * the CPU went: the server process (worker threads included), its main thread's event-loop
 * utilization and garbage collection (ms per second, and full mark-compacts per second, on the
 * per-round lines), the client process, and everything else on the machine (other processes).
 * Server and client run with the heap flags bin/tenancy.js and `npm start` give a server
 * (src/server/heap-flags.ts says why); the server line says so when they are missing.
 * Options (env): BENCH_SECONDS per setting and round (default 2), BENCH_WARMUP_SECONDS (default 1),
 * BENCH_ROUNDS (default 5), BENCH_INSTANCES (default 2); for profiling, BENCH_CONCURRENCY (default
 * "1,8"), BENCH_MODES (e.g. "gRPC"; in-process always runs) and BENCH_CLIENT_NODE_ARGS (extra node
 * flags for the client process, e.g. "--cpu-prof").
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { constants as perfConstants, performance, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/index.js';
import { startServers } from '../src/server/index.js';
import { HEAP_FLAGS, missingHeapFlags } from '../src/server/heap-flags.js';
import { writeZooModel } from '../src/zoo/index.js';
import { median, percentileOfSorted } from '../src/bench/latency-summary.js';
import {
  benchInputs,
  measureClosedLoop,
  machineBusySeconds,
  mainThreadCpuSeconds,
  MODEL,
  MODES,
  type LoadRequest,
  type Mode,
  type Sample,
} from './serve-load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** The issue's goal: these transports reach this share of in-process throughput at this concurrency. */
const GOAL = { ratio: 0.9, concurrency: 8, modes: ['HTTP binary', 'gRPC'] as Mode[] };
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 2);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);
/** In-process always runs: it is every ratio's base. */
const ONLY = process.env.BENCH_MODES?.split(',').map((s) => s.trim());
const RUN_MODES = MODES.filter((m) => m === 'in-process' || !ONLY || ONLY.includes(m));

/** One setting's totals over the rounds, with the CPU of each party (core-seconds). */
interface Total {
  /** Inferences per second of each round, in order: the per-round ratios pair them with in-process. */
  rates: number[];
  count: number;
  errors: number;
  seconds: number;
  latencies: number[];
  serverCpu: number;
  serverElu: number;
  /** CPU seconds of the server's main thread (null where /proc is not there). */
  mainCpu: number | null;
  clientCpu: number;
  otherCpu: number;
  error?: string;
}

const repo = await mkdtemp(path.join(os.tmpdir(), 'tenancy-bench-serve-'));
await writeZooModel(repo, MODEL, { instanceCount: INSTANCES });
const engine = new Engine({ repository: repo });
await engine.loadAll();
const servers = await startServers(engine, { httpPort: 0, grpcPort: 0, metricsPort: null, allowClientShm: true });
const inputs = benchInputs();

const client = fork(
  fileURLToPath(new URL('./serve-client.ts', import.meta.url)),
  [`http://127.0.0.1:${servers.httpPort}`, `127.0.0.1:${servers.grpcPort}`],
  {
    execArgv: [
      ...HEAP_FLAGS,
      '--import',
      'tsx',
      ...(process.env.BENCH_CLIENT_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ],
  },
);
await nextMessage(client);

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the client process exited (code ${code})`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as T);
    });
  });
}

async function remote(req: LoadRequest): Promise<Sample> {
  client.send(req);
  const r = await nextMessage<Sample | { error: string; count?: undefined }>(client);
  if (r.count === undefined) throw new Error(`client: ${r.error}`);
  return r;
}

/** Full (mark-compact) collections on the server's main thread: count and milliseconds, cumulative. */
const gc = { major: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.ms += e.duration;
    if (
      (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR
    )
      gc.major++;
  }
}).observe({ entryTypes: ['gc'] });

/** Runs one setting (warm-up, then measured), measuring the server's side of it too. */
async function measure(
  mode: Mode,
  concurrency: number,
): Promise<
  Sample & {
    serverCpu: number;
    serverElu: number;
    mainCpu: number | null;
    machineCpu: number;
    fullGcs: number;
    gcMs: number;
    avgBatch: number;
  }
> {
  const run = (seconds: number) =>
    mode === 'in-process'
      ? measureClosedLoop((x) => engine.infer(MODEL, x), inputs, concurrency, seconds)
      : remote({ mode, concurrency, seconds });
  await run(WARMUP);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const main0 = mainThreadCpuSeconds();
  const busy0 = machineBusySeconds();
  const gc0 = { ...gc };
  const runs0 = executions();
  const t0 = performance.now();
  const sample = await run(SECONDS);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    ...sample,
    serverCpu: (cpu.user + cpu.system) / 1e6 / wall,
    serverElu: performance.eventLoopUtilization(elu0).utilization,
    mainCpu: main0 === null ? null : mainThreadCpuSeconds()! - main0,
    machineCpu: (machineBusySeconds() - busy0) / wall,
    fullGcs: (gc.major - gc0.major) / wall,
    gcMs: (gc.ms - gc0.ms) / wall,
    avgBatch: averageBatch(runs0, executions()),
  };
}

/** The model's inference and execution counts so far (engine statistics). */
function executions(): { inferences: number; executions: number } {
  const s = engine.stats(MODEL)[0];
  return { inferences: s?.inference_count ?? 0, executions: s?.execution_count ?? 0 };
}

/** Inferences per execution between two readings: how much the dynamic batcher merged. */
function averageBatch(a: ReturnType<typeof executions>, b: ReturnType<typeof executions>): number {
  const runs = b.executions - a.executions;
  return runs > 0 ? (b.inferences - a.inferences) / runs : NaN;
}

const totals = new Map<string, Total>();
const key = (c: number, m: Mode) => `${c} ${m}`;
const m = engine.model(MODEL);
console.log(
  `${MODEL}: ${m.instances.length} instances x ${m.instances.map((i) => i.threads).join('+')} ` +
    `threads (worker threads), ${engine.cores} cores, ${os.cpus()[0]?.model ?? 'cpu'}; Node ${process.version}`,
);
console.log(
  `closed loop, batch 1, ${ROUNDS} rounds x ${SECONDS} s per setting after ${WARMUP} s warm-up; ` +
    'in-process = engine.infer in the server process; ' +
    "HTTP/gRPC = the package's clients in a separate client process",
);
const missing = missingHeapFlags();
console.log(
  'server heap flags: ' +
    `${missing.length ? `MISSING ${missing.join(' ')} (run through npm run bench:serve)` : HEAP_FLAGS.join(' ')}`,
);
console.log(
  `load average at start: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);

for (let round = 1; round <= ROUNDS; round++) {
  for (const concurrency of CONCURRENCY) {
    for (const mode of RUN_MODES) {
      const s = await measure(mode, concurrency);
      const clientCpu = mode === 'in-process' ? 0 : s.cpuCores;
      const t = totals.get(key(concurrency, mode)) ?? {
        rates: [],
        count: 0,
        errors: 0,
        seconds: 0,
        latencies: [],
        serverCpu: 0,
        serverElu: 0,
        mainCpu: 0,
        clientCpu: 0,
        otherCpu: 0,
      };
      t.rates.push(s.count / s.seconds);
      t.count += s.count;
      t.errors += s.errors;
      t.latencies = t.latencies.concat(s.latencies);
      t.serverCpu += s.serverCpu * s.seconds;
      t.serverElu += s.serverElu * s.seconds;
      t.mainCpu = t.mainCpu === null || s.mainCpu === null ? null : t.mainCpu + s.mainCpu;
      t.clientCpu += clientCpu * s.seconds;
      t.otherCpu += Math.max(0, s.machineCpu - s.serverCpu - clientCpu) * s.seconds;
      t.seconds += s.seconds;
      t.error ??= s.error;
      totals.set(key(concurrency, mode), t);
      console.log(
        `round ${round}: concurrency ${concurrency} ${mode}: ${(s.count / s.seconds).toFixed(1)} inf/s, ` +
          `server ${s.serverCpu.toFixed(2)} cores (main thread ELU ${s.serverElu.toFixed(2)}), ` +
          `client ${clientCpu.toFixed(2)}, machine ${s.machineCpu.toFixed(2)}, ` +
          `server GC ${s.gcMs.toFixed(0)} ms/s (${s.fullGcs.toFixed(1)} full/s), ` +
          `average batch ${s.avgBatch.toFixed(2)}`,
      );
    }
  }
}

/** Each round's rate over in-process's in the same round: the machine's drift cancels in each. */
const roundRatios = (t: Total, base: Total) => t.rates.map((r, i) => r / base.rates[i]);

const rows = [
  [
    'CONCURRENCY',
    'MODE',
    'INFERENCES/S',
    'P50 MS',
    'P99 MS',
    'REQUESTS',
    'ERRORS',
    'VS IN-PROCESS',
    'ROUND MEDIAN',
    'SERVER CPU',
    'SERVER ELU',
    'CLIENT CPU',
    'OTHER CPU',
    'MAIN MS/REQ',
    'CLIENT MS/REQ',
  ],
];
for (const concurrency of CONCURRENCY) {
  const base = totals.get(key(concurrency, 'in-process'))!;
  for (const mode of RUN_MODES) {
    const t = totals.get(key(concurrency, mode))!;
    const lat = t.latencies.sort((a, b) => a - b);
    const rate = t.count / t.seconds;
    rows.push([
      String(concurrency),
      mode,
      rate.toFixed(1),
      percentileOfSorted(lat, 50).toFixed(2),
      percentileOfSorted(lat, 99).toFixed(2),
      String(t.count),
      String(t.errors),
      (rate / (base.count / base.seconds)).toFixed(2),
      median(roundRatios(t, base)).toFixed(2),
      (t.serverCpu / t.seconds).toFixed(2),
      (t.serverElu / t.seconds).toFixed(2),
      mode === 'in-process' ? '-' : (t.clientCpu / t.seconds).toFixed(2),
      (t.otherCpu / t.seconds).toFixed(2),
      t.mainCpu === null ? '-' : ((t.mainCpu * 1000) / t.count).toFixed(3),
      mode === 'in-process' ? '-' : ((t.clientCpu * 1000) / t.count).toFixed(3),
    ]);
    if (t.error) console.log(`${mode} at concurrency ${concurrency}: first error: ${t.error}`);
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`\n${rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n')}`);
console.log(
  '\nVS IN-PROCESS = total over total; ' +
    'ROUND MEDIAN = median over rounds of (this round / in-process in the same round).',
);
console.log(
  'CPU columns are cores (CPU-seconds per second): SERVER = the server process with its worker threads; ' +
    'SERVER ELU = event-loop utilization of its main thread; OTHER = the rest of the machine.',
);
console.log(
  "MAIN MS/REQ, CLIENT MS/REQ: CPU milliseconds per request of the server's main thread " +
    '(the front end, the scheduler, the hand-off to the instances) and of the client process; ' +
    'compare with npm run bench:loopback-floor.',
);
const goalBase = totals.get(key(GOAL.concurrency, 'in-process'));
for (const mode of GOAL.modes) {
  const t = totals.get(key(GOAL.concurrency, mode));
  if (!t || !goalBase) continue;
  const ratios = roundRatios(t, goalBase);
  const m = median(ratios);
  console.log(
    `goal: ${mode} at concurrency ${GOAL.concurrency} >= ${GOAL.ratio} of in-process: round median ${m.toFixed(2)} ` +
      `(rounds ${ratios.map((r) => r.toFixed(2)).join(', ')}) ${m >= GOAL.ratio ? 'PASS' : 'FAIL'}`,
  );
}
for (const [mode, what] of [
  ['gRPC stream', 'one ModelStreamInfer call'],
  ['HTTP shm', 'same box, shared memory'],
  ['gRPC shm', 'same box, shared memory'],
] as [Mode, string][]) {
  const t = totals.get(key(GOAL.concurrency, mode));
  if (!t || !goalBase) continue;
  const ratios = roundRatios(t, goalBase);
  console.log(
    `${what}: ${mode} at concurrency ${GOAL.concurrency}: round median ${median(ratios).toFixed(2)} of in-process ` +
      `(rounds ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
  );
}
console.log(
  `load average at end: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

client.send({ stop: true });
await new Promise((r) => client.once('exit', r));
await servers.close();
await engine.close();
await rm(repo, { recursive: true, force: true });
