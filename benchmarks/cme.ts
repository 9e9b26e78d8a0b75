/**
 * bench:cme — concurrent model executions on this machine, measured in one run, interleaved:
 *   (a) one ONNX Runtime session with the runtime's default options (the papers' single-tenant
 *       baseline: one model, one instance, framework defaults), run directly on the main thread;
 *   (b) the engine with one instance of 1 thread;
 *   (c) the engine with one instance per core, 1 thread each (homogeneous CME).
 * Closed loop: (a) one request at a time (session.run blocks its thread); (b) and (c) keep two
 * requests per instance outstanding so an instance never waits for its next request.
 * Rounds alternate a, b, c so that noise on this shared machine hits all three alike. The engine
 * runs the models as the default repository configures them: dynamic batching on with Triton's
 * defaults (no queue delay), so requests that wait while every instance is busy are merged.
 * Usage: npm run bench:cme [-- --seconds 3 --rounds 3]
 */
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { Engine } from '../src/index.js';
import { writeZooModel } from '../src/zoo/index.js';
import { writeTextOrientationModel, TEXT_ORIENTATION } from '../src/default-repository.js';
import { removeDir, tempDir, patchConfig } from '../src/bench/scratch-repo.js';
import type { TensorMap } from '../src/tensor.js';
import { percentileOfSorted } from '../src/bench/latency-summary.js';
import { runClosedLoop } from '../src/bench/closed-loop.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 3);
const ROUNDS = arg('rounds', 5);
const CORES = os.availableParallelism();
const MODELS = ['mobilenet_v2', TEXT_ORIENTATION];

interface Sample {
  count: number;
  seconds: number;
  latencies: number[];
}
const merge = (a: Sample, b: Sample): Sample => ({
  count: a.count + b.count,
  seconds: a.seconds + b.seconds,
  latencies: a.latencies.concat(b.latencies),
});
const empty = (): Sample => ({ count: 0, seconds: 0, latencies: [] });

function input(model: string): { name: string; shape: number[]; data: Float32Array } {
  const shape = model === TEXT_ORIENTATION ? [1, 3, 48, 192] : [1, 3, 224, 224];
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => Math.random() - 0.5);
  return { name: model === TEXT_ORIENTATION ? 'x' : 'input', shape, data };
}

/** One closed loop for `ms` (src/bench/closed-loop.ts); a failed request ends the benchmark. */
async function measure(run: () => Promise<unknown>, concurrency: number, ms: number): Promise<Sample> {
  const r = await runClosedLoop(run, { concurrency, durationMs: ms });
  if (r.failed > 0) throw r.firstError;
  return { count: r.ok, seconds: r.seconds, latencies: r.latencies };
}

async function repoWith(instances: number): Promise<string> {
  const repo = await tempDir('tenancy-bench-cme-');
  await writeZooModel(repo, 'mobilenet_v2', { maxBatchSize: 8 });
  await writeTextOrientationModel(repo, { maxBatchSize: 8 });
  for (const m of MODELS) {
    await patchConfig(repo, m, {
      instance_group: [{ count: instances, kind: 'KIND_CPU' }],
      parameters: { intra_op_thread_count: { string_value: '1' } },
    });
  }
  return repo;
}

function pct(s: Sample, p: number): number {
  const l = [...s.latencies].sort((a, b) => a - b);
  return percentileOfSorted(l, p * 100);
}

async function main(): Promise<void> {
  console.log(
    `bench:cme on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${CORES} cores), ` +
      `onnxruntime-node ${ort.env.versions?.common ?? ''}`,
  );
  console.log(
    `${ROUNDS} rounds x ${SECONDS} s per configuration per model, interleaved a, b, c; batch 1, random input\n`,
  );
  const repoB = await repoWith(1);
  const repoC = await repoWith(CORES);
  const engineB = new Engine({ repository: repoB });
  const engineC = new Engine({ repository: repoC });
  await engineB.loadAll();
  await engineC.loadAll();
  const results: Record<string, Record<'a' | 'b' | 'c', Sample>> = {};
  try {
    for (const model of MODELS) {
      const x = input(model);
      const feeds: TensorMap = { [x.name]: { datatype: 'FP32', shape: x.shape, data: x.data } };
      const session = await ort.InferenceSession.create(path.join(repoB, model, '1', 'model.onnx')); // runtime defaults
      const ortFeeds = { [x.name]: new ort.Tensor('float32', x.data, x.shape) };
      const runs = {
        a: { run: () => session.run(ortFeeds), concurrency: 1 },
        b: { run: () => engineB.infer(model, feeds), concurrency: 2 },
        c: { run: () => engineC.infer(model, feeds), concurrency: 2 * CORES },
      };
      const r = { a: empty(), b: empty(), c: empty() };
      results[model] = r;
      for (const k of ['a', 'b', 'c'] as const) await measure(runs[k].run, runs[k].concurrency, 500); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        for (const k of ['a', 'b', 'c'] as const)
          r[k] = merge(r[k], await measure(runs[k].run, runs[k].concurrency, SECONDS * 1000));
      }
      await session.release();
    }
  } finally {
    await engineB.close();
    await engineC.close();
    await removeDir(repoB);
    await removeDir(repoC);
  }
  report(results);
}

function report(results: Record<string, Record<'a' | 'b' | 'c', Sample>>): void {
  const names = {
    a: 'a: 1 session, runtime defaults',
    b: 'b: engine, 1 instance x 1 thread',
    c: `c: engine, ${CORES} instances x 1 thread`,
  };
  let ok = true;
  console.log('model              configuration                       inf/s     p50 ms   p99 ms');
  for (const [model, r] of Object.entries(results)) {
    for (const k of ['a', 'b', 'c'] as const) {
      const s = r[k];
      console.log(
        `${model.padEnd(18)} ${names[k].padEnd(34)} ${(s.count / s.seconds).toFixed(1).padStart(8)} ` +
          `${pct(s, 0.5).toFixed(2).padStart(8)} ${pct(s, 0.99).toFixed(2).padStart(8)}`,
      );
    }
    const rate = (k: 'a' | 'b' | 'c') => r[k].count / r[k].seconds;
    const ca = rate('c') / rate('a');
    const cb = rate('c') / rate('b');
    const pass = ca >= 1.0 && cb >= 1.8;
    ok &&= pass;
    console.log(
      `${model.padEnd(18)} ratios: c/a = ${ca.toFixed(2)} (goal >= 1.0), c/b = ${cb.toFixed(2)} (goal >= 1.8)  ` +
        `${pass ? 'PASS' : 'FAIL'}\n`,
    );
  }
  console.log(ok ? 'bench:cme: all goals met' : 'bench:cme: a goal was missed');
  process.exitCode = ok ? 0 : 1;
}

await main();
