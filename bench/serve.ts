/**
 * npm run bench:serve: what the protocol front ends cost. MobileNet V2 (zoo, 2 instances) in one
 * engine; the same closed loop (N requests always outstanding, batch 1) drives it in-process
 * (engine.infer), over HTTP with binary tensor data, HTTP with JSON tensors, and gRPC, at
 * concurrency 1 and 8, all in this one run and process. Prints inferences/s, p50/p99 latency and
 * the ratio of each throughput to in-process at the same concurrency.
 * Options (env): BENCH_SECONDS per setting (default 5), BENCH_WARMUP_SECONDS (default 1),
 * BENCH_INSTANCES (default 2).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../src/index.js';
import { startServers } from '../src/server/index.js';
import { GrpcClient, HttpClient } from '../src/client/index.js';
import { writeZooModel } from '../src/zoo/index.js';
import type { TensorMap } from '../src/tensor.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 2);
const MODEL = 'mobilenet_v2';

type Infer = (inputs: TensorMap) => Promise<unknown>;

async function closedLoop(infer: Infer, inputs: TensorMap, concurrency: number, seconds: number) {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t = performance.now();
      try {
        await infer(inputs);
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { rate: latencies.length / elapsed, p50: q(0.5), p99: q(0.99), n: latencies.length, errors };
}

function seeded(n: number): Float32Array {
  const a = new Float32Array(n);
  let s = 1;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

const repo = await mkdtemp(path.join(os.tmpdir(), 'tenancy-bench-serve-'));
await writeZooModel(repo, MODEL, { instanceCount: INSTANCES });
const engine = new Engine({ repository: repo });
await engine.loadAll();
const servers = await startServers(engine, { httpPort: 0, grpcPort: 0, metricsPort: null });
const http = new HttpClient(`http://127.0.0.1:${servers.httpPort}`);
const grpc = new GrpcClient(`127.0.0.1:${servers.grpcPort}`);
const inputs: TensorMap = { input: { datatype: 'FP32', shape: [1, 3, 224, 224], data: seeded(3 * 224 * 224) } };

const modes: [string, Infer][] = [
  ['in-process', (x) => engine.infer(MODEL, x)],
  ['HTTP binary', (x) => http.infer(MODEL, x, { binary: true })],
  ['HTTP JSON', (x) => http.infer(MODEL, x, { binary: false })],
  ['gRPC', (x) => grpc.infer(MODEL, x)],
];

const m = engine.model(MODEL);
console.log(`${MODEL}: ${m.instances.length} instances x ${m.instances.map((i) => i.threads).join('+')} threads, ${engine.cores} cores, ${os.cpus()[0]?.model ?? 'cpu'}`);
console.log(`closed loop, batch 1, ${SECONDS} s per setting after ${WARMUP} s warm-up; Node ${process.version}\n`);
const rows = [['CONCURRENCY', 'MODE', 'INFERENCES/S', 'P50 MS', 'P99 MS', 'REQUESTS', 'ERRORS', 'VS IN-PROCESS']];
for (const concurrency of [1, 8]) {
  let base = NaN;
  for (const [name, infer] of modes) {
    await closedLoop(infer, inputs, concurrency, WARMUP);
    const r = await closedLoop(infer, inputs, concurrency, SECONDS);
    if (name === 'in-process') base = r.rate;
    rows.push([String(concurrency), name, r.rate.toFixed(1), r.p50.toFixed(2), r.p99.toFixed(2), String(r.n), String(r.errors), (r.rate / base).toFixed(2)]);
    console.log(rows[rows.length - 1].join('  '));
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log('\n' + rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n'));

grpc.close();
await servers.close();
await engine.close();
await rm(repo, { recursive: true, force: true });
