/**
 * bench:batching — dynamic batching against the raw optimum, in one run, on this machine.
 *   raw grid: raw onnxruntime-node sessions in worker threads, closed loop, no engine, over
 *             instances x intra-op threads x batch size, limited to cells that 8 outstanding
 *             requests can fill (instances x batch <= 8); the best cell is the ceiling;
 *   tenancy without dynamic batching: batch-1 clients at concurrency 8, one request per execution;
 *   tenancy with dynamic batching: the same clients, the server forms the batches.
 * Three phases per model. Screening: every raw cell and every tenancy server configuration once
 * (as Model Analyzer searches server configurations). Then paired rounds: the best raw cell, tenancy
 * without batching and the best tenancy configuration, back to back, several times; the ratio is
 * the median of the per-round ratios. Re-measuring the ceiling matters: the best of many noisy
 * screening cells is biased upwards (the winner's curse), and this shared machine drifts by 20%
 * within a minute, so only measurements taken side by side compare.
 * The goal: with dynamic batching tenancy reaches at least 0.9 of the raw optimum on both models.
 * Usage: npm run bench:batching [-- --seconds 2 --rounds 5]
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Engine } from '../src/index.js';
import { writeZooModel } from '../src/zoo/index.js';
import { writeTextOrientationModel, TEXT_ORIENTATION } from '../src/default-repository.js';
import { patchConfig, removeDir, tempDir } from '../src/bench/scratch-repo.js';
import type { TensorMap } from '../src/tensor.js';

const argNum = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = argNum('seconds', 2);
const ROUNDS = argNum('rounds', 5);
const CORES = os.availableParallelism();
const CONCURRENCY = 8;
const MODELS = [
  { name: TEXT_ORIENTATION, input: 'x', dims: [3, 48, 192] },
  { name: 'mobilenet_v2', input: 'input', dims: [3, 224, 224] },
];
const GRID = { instances: [1, 2, 4], threads: [1, 2], batch: [1, 2, 4, 8] };

interface Cell { instances: number; threads: number; batch: number; rate: number }

async function rawCell(file: string, m: (typeof MODELS)[number], instances: number, threads: number, batch: number): Promise<number> {
  const url = new URL('./raw-ort-worker.mjs', import.meta.url);
  const workers = Array.from({ length: instances }, () => new Worker(url, { workerData: { file, threads, batch, inputName: m.input, dims: m.dims } }));
  try {
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
    const until = Date.now() + SECONDS * 1000;
    const start = performance.now();
    const done = await Promise.all(workers.map((w) => new Promise<number>((r) => {
      w.once('message', (msg: { inferences: number }) => r(msg.inferences));
      w.postMessage({ until });
    })));
    return done.reduce((a, b) => a + b, 0) / ((performance.now() - start) / 1000);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function engineRate(repo: string, m: (typeof MODELS)[number], best: { instances: number; threads: number }, batching: Record<string, unknown> | null): Promise<{ rate: number; avgBatch: number }> {
  await patchConfig(repo, m.name, {
    max_batch_size: 16,
    instance_group: [{ count: best.instances }],
    parameters: { intra_op_thread_count: { string_value: String(best.threads) } },
    ...(batching ? { dynamic_batching: batching } : { dynamic_batching: undefined }),
  });
  const engine = new Engine({ repository: repo });
  try {
    await engine.loadAll([m.name]);
    const data = new Float32Array(m.dims.reduce((a, b) => a * b, 1)).map(() => Math.random() - 0.5);
    const feeds: TensorMap = { [m.input]: { datatype: 'FP32', shape: [1, ...m.dims], data } };
    const loop = async (ms: number) => {
      const start = performance.now();
      let n = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() - start < ms) {
          await engine.infer(m.name, feeds);
          n++;
        }
      }));
      return n / ((performance.now() - start) / 1000);
    };
    await loop(500);
    const before = engine.stats(m.name)[0];
    const rate = await loop(SECONDS * 1000);
    const after = engine.stats(m.name)[0];
    return { rate, avgBatch: (after.inference_count - before.inference_count) / (after.execution_count - before.execution_count) };
  } finally {
    await engine.close();
  }
}

interface Candidate { instances: number; threads: number; preferred: number; d: number }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const describe = (c: Candidate) => `${c.instances} x ${c.threads}, preferred ${c.preferred}, delay ${c.d} us`;

/**
 * Server configurations to try: the raw optimum's instances and batch at several queue delays; the
 * same instances with batches half as large, which concurrency 8 fills twice over so each instance
 * always has a full batch waiting in its pipeline; and more instances than cores with small batches.
 */
function candidates(best: Cell): Candidate[] {
  const list: Candidate[] = [
    ...[0, 1000, 4000].map((d) => ({ instances: best.instances, threads: best.threads, preferred: best.batch, d })),
    { instances: best.instances, threads: best.threads, preferred: Math.max(1, Math.floor(CONCURRENCY / (2 * best.instances))), d: 1000 },
    { instances: CORES + 1, threads: 1, preferred: 2, d: 1000 },
    { instances: 2 * CORES, threads: 1, preferred: Math.max(1, Math.floor(CONCURRENCY / (2 * CORES))), d: 1000 },
  ];
  return list.filter((c, i) => list.findIndex((o) => describe(o) === describe(c)) === i);
}

async function main(): Promise<void> {
  console.log(`bench:batching on ${os.cpus()[0]?.model ?? 'unknown CPU'} (${CORES} cores); ${SECONDS} s per measurement, ${ROUNDS} paired rounds; batch-1 clients at concurrency ${CONCURRENCY}\n`);
  const repo = await tempDir('tenancy-bench-batching-');
  await writeTextOrientationModel(repo);
  await writeZooModel(repo, 'mobilenet_v2');
  let ok = true;
  try {
    for (const m of MODELS) {
      const file = path.join(repo, m.name, '1', 'model.onnx');
      const cells: Cell[] = [];
      for (const instances of GRID.instances) for (const threads of GRID.threads) {
        if (instances * threads > Math.max(CORES, 4)) continue;
        for (const batch of GRID.batch) if (instances * batch <= CONCURRENCY) cells.push({ instances, threads, batch, rate: await rawCell(file, m, instances, threads, batch) });
      }
      cells.sort((a, b) => b.rate - a.rate);
      const best = cells[0];
      console.log(`${m.name}: screening. Raw grid (instances x threads x batch -> inferences/s), best first:`);
      for (const c of cells.slice(0, 5)) console.log(`  ${c.instances} x ${c.threads} x ${String(c.batch).padEnd(2)} ${c.rate.toFixed(1).padStart(8)}`);
      const plainCell = { instances: best.instances, threads: best.threads, preferred: 1, d: 0 };
      const screened = [];
      for (const c of candidates(best)) {
        const r = await engineRate(repo, m, c, { max_queue_delay_microseconds: c.d, preferred_batch_size: [c.preferred] });
        screened.push({ c, ...r });
        console.log(`  tenancy ${describe(c).padEnd(36)} ${r.rate.toFixed(1).padStart(8)}  (average batch ${r.avgBatch.toFixed(2)})`);
      }
      screened.sort((a, b) => b.rate - a.rate);
      const chosen = screened[0].c;
      console.log(`${m.name}: paired rounds. Raw ${best.instances} x ${best.threads} x ${best.batch} | tenancy ${best.instances} x ${best.threads} no batching | tenancy ${describe(chosen)}`);
      const ratios: number[] = [];
      const plainRatios: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const raw = await rawCell(file, m, best.instances, best.threads, best.batch);
        const plain = await engineRate(repo, m, plainCell, null);
        const batched = await engineRate(repo, m, chosen, { max_queue_delay_microseconds: chosen.d, preferred_batch_size: [chosen.preferred] });
        ratios.push(batched.rate / raw);
        plainRatios.push(plain.rate / raw);
        console.log(`  round ${round}: raw ${raw.toFixed(1).padStart(7)} | no batching ${plain.rate.toFixed(1).padStart(7)} (${(plain.rate / raw).toFixed(2)}) | dynamic batching ${batched.rate.toFixed(1).padStart(7)} (${(batched.rate / raw).toFixed(2)}, average batch ${batched.avgBatch.toFixed(2)})`);
      }
      const ratio = median(ratios);
      const pass = ratio >= 0.9;
      ok &&= pass;
      console.log(`  median of rounds: dynamic batching / raw optimum = ${ratio.toFixed(2)} (goal >= 0.9) ${pass ? 'PASS' : 'FAIL'}; without batching ${median(plainRatios).toFixed(2)}\n`);
    }
  } finally {
    await removeDir(repo);
  }
  console.log(ok ? 'bench:batching: all goals met' : 'bench:batching: a goal was missed');
  process.exitCode = ok ? 0 : 1;
}

await main();
