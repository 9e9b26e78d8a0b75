/**
 * npm run bench:images: what server-side image preprocessing costs. MobileNet V2 (zoo, 224x224,
 * BENCH_INSTANCES instances) with an image_input pipeline (shorter side + centre crop, ImageNet
 * mean/std), fed one 640x480 JPEG (made here with sharp, camera-like: gradients and noise).
 * The same closed loop (BENCH_CONCURRENCY requests always outstanding, batch 1) drives, in rounds:
 *   pipeline only    ImagePipeline.run alone (decode + resize + normalize, no model);
 *   tensor in        engine.infer with the ready 1x3x224x224 tensor (no preprocessing): the base;
 *   image in         engine.infer with the JPEG as a BYTES input, in this process;
 *   HTTP binary      the package's HttpClient sending the JPEG as binary BYTES data (the client
 *                    runs in this process too, so it shares the CPU with the server);
 * and prints images/s, p50/p99 latency, the ratio to "tensor in", and from the statistics extension
 * (deltas over the setting) the average compute_input (preprocessing + handing the tensor to the
 * instance) and compute_infer per request, and the preprocessing share input / (input + infer).
 * The main thread's event-loop utilization shows that decoding runs off the loop.
 * Options (env): BENCH_SECONDS per setting and round (default 4), BENCH_ROUNDS (default 2),
 * BENCH_CONCURRENCY (default 4), BENCH_INSTANCES (default 2).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { Engine } from '../src/index.js';
import { HttpClient } from '../src/client/index.js';
import { startServers } from '../src/server/index.js';
import { writeZooModel } from '../src/zoo/index.js';
import { ImagePipeline } from '../src/preprocess/index.js';
import type { ModelStatistics } from '../src/engine/model-stats.js';
import type { TensorMap } from '../src/tensor.js';
import { percentileOfSorted } from '../src/bench/latency-summary.js';
import { runClosedLoop } from '../src/bench/closed-loop.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 2);
const MODEL = 'mobilenet_v2';
const IMAGE_INPUT = { resize: 'shorter_side_center_crop', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** A 640x480 JPEG that compresses like a photo: smooth gradients plus per-pixel noise. */
async function cameraFrame(): Promise<Buffer> {
  const w = 640;
  const h = 480;
  const raw = Buffer.alloc(w * h * 3);
  let s = 12345;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      s = (s * 1664525 + 1013904223) >>> 0;
      const n = (s >>> 24) % 32;
      const o = (y * w + x) * 3;
      raw[o] = ((x * 255) / w) * 0.8 + n;
      raw[o + 1] = ((y * 255) / h) * 0.8 + n;
      raw[o + 2] = 128 + 60 * Math.sin(x / 37) * Math.cos(y / 23) + n / 2;
    }
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

interface Totals {
  count: number;
  seconds: number;
  latencies: number[];
  inputNs: number;
  inferNs: number;
  statCount: number;
  elu: number;
}

/**
 * One closed loop at CONCURRENCY for `seconds` (src/bench/closed-loop.ts), with the main thread's
 * event-loop utilization; a failed request ends the benchmark.
 */
async function measure(
  call: () => Promise<unknown>,
  seconds: number,
): Promise<Omit<Totals, 'inputNs' | 'inferNs' | 'statCount'>> {
  const elu0 = performance.eventLoopUtilization();
  const r = await runClosedLoop(call, { concurrency: CONCURRENCY, durationMs: seconds * 1000 });
  if (r.failed > 0) throw r.firstError;
  return {
    count: r.ok,
    seconds: r.seconds,
    latencies: r.latencies,
    elu: performance.eventLoopUtilization(elu0).utilization,
  };
}

const repo = await mkdtemp(path.join(os.tmpdir(), 'tenancy-bench-images-'));
const dir = await writeZooModel(repo, MODEL, { instanceCount: INSTANCES });
const configFile = path.join(dir, 'config.json');
await writeFile(
  configFile,
  JSON.stringify({ ...JSON.parse(await readFile(configFile, 'utf8')), image_input: IMAGE_INPUT }, null, 2),
);
const engine = new Engine({ repository: repo });
await engine.loadAll();
const servers = await startServers(engine, { httpPort: 0, grpcPort: 0, metricsPort: null });
const http = new HttpClient(`http://127.0.0.1:${servers.httpPort}`);
const jpeg = await cameraFrame();
const pipeline = ImagePipeline.fromConfig(engine.model(MODEL).config)!;
const imageInputs: TensorMap = { input: { datatype: 'BYTES', shape: [1], data: [jpeg] } };
const tensorInputs = await pipeline.run(imageInputs);

const stats = (): ModelStatistics['inference_stats'] => engine.stats(MODEL)[0].inference_stats;
const modes: [string, () => Promise<unknown>, boolean][] = [
  ['pipeline only', () => pipeline.run(imageInputs), false],
  ['tensor in', () => engine.infer(MODEL, tensorInputs), true],
  ['image in', () => engine.infer(MODEL, imageInputs), true],
  ['HTTP binary', () => http.infer(MODEL, imageInputs), true],
];
const totals = new Map<string, Totals>(
  modes.map(([m]) => [m, { count: 0, seconds: 0, latencies: [], inputNs: 0, inferNs: 0, statCount: 0, elu: 0 }]),
);

console.log(
  `bench:images: ${MODEL} 224x224, ${INSTANCES} instance(s), ${os.cpus().length} cores, ` +
    `one 640x480 JPEG (${jpeg.length} bytes)`,
);
console.log(
  `closed loop at concurrency ${CONCURRENCY}, ${ROUNDS} round(s) of ${SECONDS} s per setting, settings interleaved\n`,
);
for (const [, call] of modes) await measure(call, 0.5); // warm every path once
for (let round = 0; round < ROUNDS; round++) {
  for (const [mode, call, counted] of modes) {
    const before = stats();
    const r = await measure(call, SECONDS);
    const after = stats();
    const t = totals.get(mode)!;
    t.count += r.count;
    t.seconds += r.seconds;
    t.latencies.push(...r.latencies);
    t.elu += r.elu / ROUNDS;
    if (counted) {
      t.inputNs += after.compute_input.ns - before.compute_input.ns;
      t.inferNs += after.compute_infer.ns - before.compute_infer.ns;
      t.statCount += after.compute_input.count - before.compute_input.count;
    }
  }
}

const q = (l: number[], p: number) => percentileOfSorted(l, p * 100);
const base = totals.get('tensor in')!;
const rows = [
  [
    'MODE',
    'IMAGES/S',
    'P50 MS',
    'P99 MS',
    'VS TENSOR IN',
    'COMPUTE_INPUT MS',
    'COMPUTE_INFER MS',
    'PREPROCESS SHARE',
    'MAIN LOOP BUSY',
  ],
];
for (const [mode, , counted] of modes) {
  const t = totals.get(mode)!;
  t.latencies.sort((a, b) => a - b);
  const rate = t.count / t.seconds;
  const input = t.inputNs / 1e6 / t.statCount;
  const infer = t.inferNs / 1e6 / t.statCount;
  rows.push([
    mode,
    rate.toFixed(1),
    q(t.latencies, 0.5).toFixed(2),
    q(t.latencies, 0.99).toFixed(2),
    (rate / (base.count / base.seconds)).toFixed(2),
    counted ? input.toFixed(2) : '-',
    counted ? infer.toFixed(2) : '-',
    counted ? `${((100 * input) / (input + infer)).toFixed(1)}%` : '-',
    `${(100 * t.elu).toFixed(0)}%`,
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n'));
console.log(
  '\ncompute_input includes handing the tensor to the instance (about the "tensor in" figure); ' +
    'the preprocessing share is',
);
console.log('compute_input / (compute_input + compute_infer), per request, from the statistics extension.');

http.close();
await servers.close();
await engine.close();
await rm(repo, { recursive: true, force: true });
