/**
 * What one instance costs, step by step (bench:memory --steps): in a fresh Node process started
 * with the serving heap flags, for each instance in turn: a worker thread starts, imports the
 * ONNX Runtime binding, creates a session on the model's shared-weights copy, runs the warm-up
 * (2 batch-1 runs); after each step the process's anonymous memory and file-backed PSS are read
 * (/proc/self/smaps_rollup). Settings: ONNX Runtime's memory options and V8's worker heap (as
 * before), and tenancy's (leanSessionDefaults of the copy, WORKER_RESOURCE_LIMITS). The steps run
 * src/ compiled to JavaScript (as bench:memory does), with the session options of
 * src/runtime/ort-session.ts; the shared copy is written in a child process, as the engine does.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { HEAP_FLAGS } from '../src/server/heap-flags.js';

const MB = 2 ** 20;

/** The worker: imports the binding, loads, warms, on request (eval'd: plain JavaScript). */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
let ort;
let session;
parentPort.on('message', async (m) => {
  try {
    if (m === 'import') ort = await import(workerData.ortSession);
    if (m === 'load') session = await ort.createOrtSession(workerData.file, workerData.options);
    if (m === 'warm') {
      const { name, shape } = workerData.input;
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5);
      for (let i = 0; i < 2; i++) await session.run({ [name]: { datatype: 'FP32', shape, data } });
    }
    parentPort.postMessage('ok');
  } catch (err) {
    parentPort.postMessage(String(err && err.stack));
  }
});
parentPort.postMessage('ok');
`;

function memory(): { anon: number; file: number } {
  const t = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0) * 1024;
  return { anon: kb('Pss_Anon'), file: kb('Pss_File') };
}

export interface StepsSetting {
  label: string;
  /** Session options beyond the threads; lean: the copy's leanSessionDefaults. */
  options: Record<string, unknown> | 'lean';
  /** The worker's V8 limits; undefined: host.ts WORKER_RESOURCE_LIMITS. */
  resourceLimits?: Record<string, number>;
}

export interface StepRow {
  model: string;
  setting: string;
  instance: number;
  /** Anonymous MB added by each step. */
  worker: number;
  binding: number;
  session: number;
  warmup: number;
  /** File-backed PSS MB the instance added (the weights' pages, the libraries' first use). */
  file: number;
}

/** In a child process: the steps of `n` instances of one setting. */
export async function stepsChild(build: string, model: string, file: string, settingJson: string, n: number) {
  const { Worker } = await import('node:worker_threads');
  const setting = JSON.parse(settingJson) as StepsSetting;
  const shared = (await import(pathToFileURL(path.join(build, 'runtime', 'shared-weights.js')).href)) as {
    graphTraits(f: string): Promise<unknown>;
    leanSessionDefaults(t: unknown): Record<string, unknown>;
  };
  const hostMod = (await import(pathToFileURL(path.join(build, 'runtime', 'host.js')).href)) as {
    WORKER_RESOURCE_LIMITS: Record<string, number>;
  };
  const chosen =
    setting.options === 'lean' ? shared.leanSessionDefaults(await shared.graphTraits(file)) : setting.options;
  const options = {
    intraOpThreads: 1,
    interOpThreads: 1,
    spinning: false,
    executionProviders: ['cpu'],
    preoptimized: true,
    prepacking: chosen.prepacking,
    memPattern: chosen.memPattern,
  };
  const input =
    model === 'text_orientation' ? { name: 'x', shape: [1, 3, 48, 192] } : { name: 'input', shape: [1, 3, 224, 224] };
  const workerData = {
    ortSession: pathToFileURL(path.join(build, 'runtime', 'ort-session.js')).href,
    file,
    options,
    input,
  };
  const rows: StepRow[] = [];
  const workers: InstanceType<typeof Worker>[] = [];
  for (let i = 0; i < n; i++) {
    const at = [memory()];
    const w = new Worker(WORKER, {
      eval: true,
      workerData,
      resourceLimits: setting.resourceLimits ?? hostMod.WORKER_RESOURCE_LIMITS,
    });
    workers.push(w);
    const step = (m?: string) =>
      new Promise<void>((resolve, reject) => {
        w.once('message', (r) => (r === 'ok' ? resolve() : reject(new Error(String(r)))));
        if (m) w.postMessage(m);
      });
    await step();
    at.push(memory());
    for (const m of ['import', 'load', 'warm']) {
      await step(m);
      at.push(memory());
    }
    const d = (k: number) => (at[k].anon - at[k - 1].anon) / MB;
    const file = (at[4].file - at[0].file) / MB;
    rows.push({
      model,
      setting: setting.label,
      instance: i + 1,
      worker: d(1),
      binding: d(2),
      session: d(3),
      warmup: d(4),
      file,
    });
  }
  for (const w of workers) await w.terminate();
  return rows;
}

/** Writes the shared-weights copy of `source` at `target` in a child process (as the engine does). */
export function writeCopy(build: string, source: string, target: string): void {
  const ort = pathToFileURL(path.join(build, 'runtime', 'ort-session.js')).href;
  const [from, to] = [JSON.stringify(source), JSON.stringify(target)];
  const code = `import(${JSON.stringify(ort)}).then((m) => m.writeSharedWeightsModel(${from}, ${to}))`;
  execFileSync(process.execPath, ['-e', code], { stdio: 'inherit' });
}

export function runStepsChild(self: string, args: string[]): Promise<StepRow[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...HEAP_FLAGS, '--import', 'tsx', self, '--steps-child', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('ROWS '));
      if (line) resolve(JSON.parse(line.slice(5)) as StepRow[]);
      else reject(new Error(`steps child ${args.join(' ')} exited with ${code}: ${out}`));
    });
  });
}

export function printSteps(rows: StepRow[]): void {
  console.log('One instance at a time, anonymous memory each step added, MB (PSS of files: weights, libraries)');
  console.log(
    '| model | setting | instance | worker thread | ONNX Runtime binding | session | warm-up | total | file |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const total = r.worker + r.binding + r.session + r.warmup;
    const cells = [r.model, r.setting, r.instance, r.worker, r.binding, r.session, r.warmup, total, r.file].map((c) =>
      typeof c === 'number' && !Number.isInteger(c) ? c.toFixed(1) : String(c),
    );
    console.log(`| ${cells.join(' | ')} |`);
  }
}
