/**
 * npm run bench:default: the figure a user gets with no tuning knowledge. Models dropped into a
 * repository with no config.json at all (the zoo's MobileNet V2 and the real text classifier),
 * each alone and both together, served by `tenancy serve` in its own process, loaded by an
 * external load generator (autocannon, its own process) with binary tensor data over 8
 * connections. Against the loop a user would write instead: one onnxruntime-node session with
 * default options awaited in a loop (src/bench/plain-session-main.ts, its own process).
 * Served and plain runs alternate in rounds, so drift on this shared machine falls on both; the
 * figure is the median of the per-round ratios. Also in the same run: the raw in-process optimum
 * found by the grid searches here (2 sessions x 1 thread x batch 4 in worker threads,
 * benchmarks/raw-ort-worker.mjs), and the time from starting `tenancy serve` to serving, first and
 * second start. Before the rounds, the load runs until the live tuner has settled every model
 * (GET /v2/placement), and the bench prints how long that took; the second start must serve the
 * stored tuning (state "stored") from its first request.
 * Options (env): BENCH_ROUNDS (default 3), BENCH_SECONDS per run (default 8), BENCH_CASES
 * ("mobilenet,classifier,both"), BENCH_CONNECTIONS (default 8).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { textOrientationModelFile } from '../src/default-repository.js';
import { writeZooModel } from '../src/zoo/index.js';
import { HEAP_FLAGS } from '../src/server/heap-flags.js';
import { PlainSession } from '../src/bench/plain-session.js';
import { median } from '../src/bench/latency-summary.js';
import type { Tensor } from '../src/tensor.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const CASES = (process.env.BENCH_CASES ?? 'mobilenet,classifier,both').split(',');
/** The issue's goals (issue 14): served / plain session, and batch-1 clients / raw optimum. */
const GOALS: Record<string, number> = { mobilenet_v2: 1.13, text_orientation: 2.7 };
const RAW_GOAL = 0.75;
/** Longest the bench waits for the tuner to settle, s. */
const TUNING_LIMIT_S = Number(process.env.BENCH_TUNING_LIMIT ?? 150);

interface ModelCase {
  name: string;
  /** One request's input, batch 1. */
  input: Tensor;
  inputName: string;
  file: string;
}

// bin/tenancy.js runs dist/: build it from the sources this bench is run with.
execFileSync(
  process.execPath,
  [
    fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)),
    '-p',
    fileURLToPath(new URL('../tsconfig.build.json', import.meta.url)),
  ],
  { stdio: 'inherit' },
);
const work = await mkdtemp(path.join(os.tmpdir(), 'tenancy-bench-default-'));
const zooDir = path.join(work, 'zoo');
await writeZooModel(zooDir, 'mobilenet_v2');
const MODELS: Record<string, ModelCase> = {
  mobilenet_v2: {
    name: 'mobilenet_v2',
    inputName: 'input',
    file: path.join(zooDir, 'mobilenet_v2', '1', 'model.onnx'),
    input: randomInput([1, 3, 224, 224]),
  },
  text_orientation: {
    name: 'text_orientation',
    inputName: 'x',
    file: textOrientationModelFile(),
    input: randomInput([1, 3, 48, 192]),
  },
};
const CASE_MODELS: Record<string, string[]> = {
  mobilenet: ['mobilenet_v2'],
  classifier: ['text_orientation'],
  both: ['mobilenet_v2', 'text_orientation'],
};

function randomInput(shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = 7;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s / 2 ** 32 - 0.5;
  }
  return { datatype: 'FP32', shape, data };
}

/** A repository of model files with no config.json: everything is the server's to choose. */
async function bareRepository(models: string[]): Promise<string> {
  const repo = path.join(work, `repo-${models.join('-')}`);
  for (const m of models) {
    await mkdir(path.join(repo, m, '1'), { recursive: true });
    await copyFile(MODELS[m].file, path.join(repo, m, '1', 'model.onnx'));
  }
  return repo;
}

/** A binary-tensor-data request body (Triton's extension), written once for the load generator. */
async function requestBody(m: ModelCase): Promise<{ file: string; headerLength: number }> {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [
        {
          name: m.inputName,
          datatype: 'FP32',
          shape: m.input.shape,
          parameters: { binary_data_size: (m.input.data as Float32Array).byteLength },
        },
      ],
      outputs: [{ name: m.name === 'mobilenet_v2' ? 'logits' : 'softmax_0.tmp_0', parameters: { binary_data: true } }],
    }),
  );
  const file = path.join(work, `${m.name}.body`);
  const data = m.input.data as Float32Array;
  await writeFile(file, Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
  return { file, headerLength: header.length };
}

interface Served {
  child: ChildProcess;
  url: string;
  readyMs: number;
  output: string;
}

/** Starts `tenancy serve` (the real CLI, its own process) and waits until it says it serves. */
async function serve(repo: string): Promise<Served> {
  const t0 = performance.now();
  const args = [
    'serve',
    '--repo',
    repo,
    '--http-port',
    '0',
    '--grpc-port',
    '0',
    '--metrics-port',
    '0',
    '--profiles',
    path.join(repo, '..', `${path.basename(repo)}.profiles.db`),
  ];
  // The compiled CLI, as a user runs it (bin/tenancy.js): built from the current sources at the bench's start.
  const child = spawn(
    process.execPath,
    [...HEAP_FLAGS, fileURLToPath(new URL('../bin/tenancy.js', import.meta.url)), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr!.setEncoding('utf8').on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      const m = output.match(/HTTP\/REST {2}(http:\/\/[\d.]+:\d+)\/v2/);
      if (m && output.includes('serving;')) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`tenancy serve exited (${code}):\n${output}`)));
  });
  const readyMs = performance.now() - t0;
  // What the server printed so far (its tuning lines keep coming).
  return {
    child,
    url,
    readyMs,
    get output() {
      return output;
    },
  };
}

async function stop(s: Served): Promise<void> {
  const gone = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await gone;
}

/** autocannon in its own process: inferences/s of batch-1 requests over `connections`. */
async function autocannon(
  url: string,
  body: { file: string; headerLength: number },
  connections: number,
  seconds: number,
): Promise<number> {
  const runner = fileURLToPath(new URL('./autocannon-run.mjs', import.meta.url));
  const child = spawn(
    process.execPath,
    [runner, url, body.file, String(body.headerLength), String(connections), String(seconds)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d) => (err += d));
  await new Promise((r) => child.once('exit', r));
  const r = JSON.parse(out) as {
    requests: { total: number };
    duration: number;
    non2xx: number;
    errors: number;
    '2xx': number;
  };
  if (r.non2xx || r.errors)
    throw new Error(
      `autocannon against ${url}: ${r.non2xx} non-2xx answers and ${r.errors} errors of ${r.requests.total}\n${err}`,
    );
  return r['2xx'] / r.duration;
}

interface TuningRow {
  model: string;
  state: string;
  configuration: string;
  throughput: number | null;
  tuningMs: number | null;
  why: string;
}

async function tuning(url: string): Promise<TuningRow[]> {
  const view = (await (await fetch(`${url}/v2/placement`)).json()) as { models: { tuning: TuningRow | null }[] };
  return view.models.flatMap((m) => (m.tuning ? [m.tuning] : []));
}

/** Runs the load on every model until the live tuner has settled them all (or `limitS`); the seconds it took. */
async function untilTuned(
  url: string,
  models: string[],
  bodies: { file: string; headerLength: number }[],
  limitS: number,
): Promise<{ seconds: number; rows: TuningRow[] }> {
  const runner = fileURLToPath(new URL('./autocannon-run.mjs', import.meta.url));
  const share = Math.max(1, Math.floor(CONNECTIONS / models.length));
  const loads = models.map((m, i) =>
    spawn(
      process.execPath,
      [
        runner,
        `${url}/v2/models/${m}/infer`,
        bodies[i].file,
        String(bodies[i].headerLength),
        String(share),
        String(limitS),
      ],
      { stdio: 'ignore' },
    ),
  );
  const t0 = performance.now();
  let rows: TuningRow[] = [];
  try {
    while (performance.now() - t0 < limitS * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      rows = await tuning(url);
      if (rows.length && rows.every((t) => t.state === 'tuned' || t.state === 'stored' || t.state === 'fixed')) break;
    }
  } finally {
    for (const l of loads) l.kill('SIGKILL');
  }
  return { seconds: (performance.now() - t0) / 1000, rows };
}

/** The raw optimum of the grid searches here: 2 sessions x 1 thread, batch 4, in worker threads, looping. */
async function rawOptimum(m: ModelCase, seconds: number): Promise<number> {
  const url = new URL('./raw-ort-worker.mjs', import.meta.url);
  const dims = m.input.shape.slice(1);
  const workers = Array.from(
    { length: 2 },
    () => new Worker(url, { workerData: { file: m.file, threads: 1, batch: 4, inputName: m.inputName, dims } }),
  );
  try {
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
    const until = Date.now() + seconds * 1000;
    const done = await Promise.all(
      workers.map(
        (w) =>
          new Promise<number>((r) => {
            w.once('message', (msg: { inferences: number }) => r(msg.inferences));
            w.postMessage({ until });
          }),
      ),
    );
    return done.reduce((a, b) => a + b, 0) / seconds;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const results: string[] = [];
const plain = new Map<string, PlainSession>();
try {
  for (const name of Object.keys(MODELS))
    plain.set(name, await PlainSession.start(MODELS[name].file, [{ [MODELS[name].inputName]: MODELS[name].input }]));
  console.log(
    `bench:default: ${ROUNDS} rounds of ${SECONDS} s per run, ${CONNECTIONS} connections, ` +
      `${os.availableParallelism()} cores; models with no config.json`,
  );
  for (const c of CASES) {
    const models = CASE_MODELS[c];
    const repo = await bareRepository(models);
    const bodies = await Promise.all(models.map((m) => requestBody(MODELS[m])));
    const first = await serve(repo);
    const chosen = first.output.split('\n').filter((l) => /^ {2}\S+: /.test(l));
    console.log(
      `\n== ${c}: ${models.join(' + ')}; tenancy serve ready in ${fmt(first.readyMs, 0)} ms\n${chosen.join('\n')}`,
    );
    const ratios: number[][] = models.map(() => []);
    const rawRatios: number[][] = models.map(() => []);
    let tuned: { seconds: number; rows: TuningRow[] } = { seconds: NaN, rows: [] };
    try {
      tuned = await untilTuned(first.url, models, bodies, TUNING_LIMIT_S);
      const changes = first.output.split('\n').filter((l) => l.startsWith('tuning '));
      console.log(`the tuner's changes:\n${changes.map((l) => `  ${l}`).join('\n')}`);
      console.log(
        `tuned under load in ${fmt(tuned.seconds, 1)} s:\n` +
          tuned.rows.map((t) => `  ${t.model}: ${t.state}: ${t.configuration} (${t.why})`).join('\n'),
      );
      for (let r = 0; r < ROUNDS; r++) {
        const plainRates: number[] = [];
        for (const m of models)
          plainRates.push(
            (await plain.get(m)!.measure(SECONDS * 1000, 1000, { threshold: 1, count: 1, maxWindows: 1 })).throughput,
          );
        // Both models served at once: each gets its share of the connections.
        const share = Math.max(1, Math.floor(CONNECTIONS / models.length));
        const served = await Promise.all(
          models.map((m, i) => autocannon(`${first.url}/v2/models/${m}/infer`, bodies[i], share, SECONDS)),
        );
        const raw = models.length === 1 ? [await rawOptimum(MODELS[models[0]], SECONDS)] : [NaN];
        models.forEach((_m, i) => {
          ratios[i].push(served[i] / plainRates[i]);
          rawRatios[i].push(served[i] / raw[i]);
        });
        const perModel = models.map(
          (m, i) =>
            `${m} served ${fmt(served[i])} inf/s, ` +
            `plain ${fmt(plainRates[i])} = ${fmt(served[i] / plainRates[i], 2)}x` +
            `${Number.isFinite(raw[i]) ? `, raw optimum ${fmt(raw[i])} (served = ${fmt(served[i] / raw[i], 2)})` : ''}`,
        );
        console.log(`round ${r + 1}: ${perModel.join('; ')}`);
      }
    } finally {
      await stop(first);
    }
    const second = await serve(repo);
    const again = await tuning(second.url).finally(() => stop(second));
    const lines = models.map((m, i) => {
      const x = median(ratios[i]);
      const goal = models.length === 1 ? GOALS[m] : undefined;
      const raw = median(rawRatios[i]);
      return (
        `${c}: ${m} served / plain session median ${fmt(x, 2)}x ` +
        `(rounds ${ratios[i].map((v) => fmt(v, 2)).join(', ')})` +
        `${goal ? ` goal >= ${goal}: ${x >= goal ? 'met' : 'NOT met'}` : ''}` +
        (Number.isFinite(raw)
          ? `; served / raw in-process optimum ${fmt(raw, 2)} ` +
            `(goal >= ${RAW_GOAL}: ${raw >= RAW_GOAL ? 'met' : 'NOT met'})`
          : '')
      );
    });
    if (models.length > 1) {
      const totals = ratios[0].map((_, r) => ratios.reduce((s, list) => s + list[r], 0));
      lines.push(
        `${c}: normalized total (sum of served / plain) median ${fmt(median(totals), 2)} ` +
          '(1.0 = the models taking turns on plain sessions)',
      );
    }
    lines.push(
      `${c}: tuning settled ${fmt(tuned.seconds, 1)} s after the load began ` +
        `(goal <= 60 s per model: ${tuned.seconds <= 60 * models.length ? 'met' : 'NOT met'}); ` +
        tuned.rows
          .map(
            (t) =>
              `${t.model} ${t.state} at ${t.configuration}${t.tuningMs ? ` in ${fmt(t.tuningMs / 1000, 1)} s` : ''}`,
          )
          .join('; '),
    );
    lines.push(
      `${c}: time to serving: first start ${fmt(first.readyMs, 0)} ms, second start ${fmt(second.readyMs, 0)} ms ` +
        `(goal <= 2000 ms: ${second.readyMs <= 2000 ? 'met' : 'NOT met'}), ` +
        `serving ${again.map((t) => `${t.model} ${t.state}`).join(', ')} from the first request`,
    );
    results.push(...lines);
  }
} finally {
  for (const s of plain.values()) s.close();
  await rm(work, { recursive: true, force: true });
}
console.log(`\nsummary\n${results.join('\n')}`);
