/**
 * bench:memory — what N instances of a model cost in memory, by setting, and what a setting costs
 * in throughput against another. For MobileNet V2 and ResNet-50 from the zoo, for 1, 2, 4 and 8
 * instances (worker threads, 1 intra-op thread each), each setting in a fresh Node process started
 * with the serving heap flags (src/server/heap-flags.ts, as `tenancy serve` runs), so that no
 * setting inherits another's heap; its own young generation is made resident before the base is
 * read (the flags' 32 MiB are the process's, not an instance's). Settings (--modes):
 *   private   each instance its own copy of the weights; ONNX Runtime's memory options; V8's worker heap
 *   shared    shared weights (src/runtime/shared-weights.ts); ONNX Runtime's memory options (prepacking
 *             and memory pattern on); V8's worker heap: tenancy before the lean defaults
 *   chosen    tenancy's defaults: shared weights, the session options chosen for the model
 *             (shared-weights.ts leanSessionDefaults), the worker limits of host.ts
 *   shared-noprepack, shared-nopattern   shared, with one of ONNX Runtime's options off
 * Per setting:
 *   memory: the process's proportional set size (PSS, /proc/self/smaps_rollup: anonymous memory
 *           plus its share of mapped file pages, so a page-cache page mapped by several sessions
 *           counts once) after load and warm-up, minus the same process's PSS before the first
 *           instance; also the peak during the throughput run (sampled every 100 ms);
 *   throughput alone: closed loop at concurrency N (one outstanding batch-1 request per instance)
 *           for --seconds after a 1-second warm-up, in that setting's own process.
 * The goal (issue 20): N instances cost < 1.5x the memory of one, for N up to 8: printed per
 * model, setting and N as the ratio and PASS or FAIL.
 * Throughput paired (--pairs a:b,...): N instances of a and N of b loaded in one process take turns
 * in 1-second closed-loop slices for --rounds rounds (order alternating); printed are the median of
 * the per-round throughput ratios a/b and, steadier on a shared machine, the median of the
 * per-round ratios of the runs' 10th-percentile compute time (b/a: > 1 means a runs faster). This
 * machine drifts by more than 3% between separate runs, so only paired ratios are compared.
 * The instances come from src/ compiled first (into tmp/, with tsc -p tsconfig.build.json), as
 * `tenancy` runs when installed: under tsx each worker thread would compile TypeScript itself and
 * hold ~30 MB more, which would measure tsx, not the instances.
 * Models: the zoo's (seeded weights) and text_orientation, the real classifier of the default repository.
 * Usage: npm run bench:memory [-- --seconds 3 --rounds 5 --counts 1,2,4,8 --models mobilenet_v2,resnet50
 *   --modes private,shared,chosen --pairs shared:private,chosen:shared]
 * With --idle, instead: where an idle `tenancy serve` keeps its memory (benchmarks/idle-breakdown.ts),
 * with an empty repository and with --repo (default: the default repository), after --idle-s seconds
 * idle (20), and once more per --env NAME=VALUE (e.g. MALLOC_ARENA_MAX=2). It builds dist/ first.
 * With --steps, instead: what each instance adds, step by step (benchmarks/memory-steps.ts), for
 * --instances instances (2) of --models (mobilenet_v2,resnet50,text_orientation), before and after.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelInstance as Instance, InstanceOptions } from '../src/runtime/index.js';
import { runClosedLoop } from '../src/bench/closed-loop.js';
import { removeDir, tempDir } from '../src/bench/scratch-repo.js';
import { median } from '../src/bench/latency-summary.js';
import { HEAP_FLAGS } from '../src/server/heap-flags.js';
import { writeZooModel, type ZooName } from '../src/zoo/index.js';
import { TEXT_ORIENTATION, writeTextOrientationModel } from '../src/default-repository.js';
import type { TensorMap } from '../src/tensor.js';
import { type IdleReading, measureIdleServer, printIdle } from './idle-breakdown.js';
import { printSteps, runStepsChild, type StepRow, type StepsSetting, stepsChild, writeCopy } from './memory-steps.js';

const MB = 2 ** 20;
/** Issue 20's goal: N instances below this many times the memory of one. */
const GOAL_RATIO = 1.5;
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

type Mode = 'private' | 'shared' | 'chosen' | 'shared-noprepack' | 'shared-nopattern';
type Setting = Pick<InstanceOptions, 'resourceLimits'> & { session: Partial<InstanceOptions['session']> };

/** {} as resourceLimits: the worker gets V8's limits (the process's heap flags), as before host.ts set its own. */
const SETTINGS: Record<Mode, Setting> = {
  private: { resourceLimits: {}, session: { shareWeights: false, prepacking: true, memPattern: true } },
  shared: { resourceLimits: {}, session: { shareWeights: true, prepacking: true, memPattern: true } },
  chosen: { session: {} },
  'shared-noprepack': { resourceLimits: {}, session: { shareWeights: true, prepacking: false, memPattern: true } },
  'shared-nopattern': { resourceLimits: {}, session: { shareWeights: true, prepacking: true, memPattern: false } },
};

interface Row {
  model: string;
  mode: Mode;
  n: number;
  /** PSS added by the instances after warm-up, and at the peak of the throughput run, MB. */
  pssMB: number;
  peakMB: number;
  anonMB: number;
  fileMB: number;
  inferPerS: number;
  /** Load of the first instance (for shared: hashing and writing the copy too), ms. */
  firstLoadMs: number;
  shared: number;
  /** The session options the instances chose (shared-weights.ts), or why weights are private. */
  note: string;
}

function memory(): { pss: number; anon: number; file: number } {
  const t = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0) * 1024;
  return { pss: kb('Pss'), anon: kb('Pss_Anon'), file: kb('Pss_File') };
}

type Pair = Awaited<ReturnType<typeof pairChild>>;
type Runtime = { ModelInstance: new (o: InstanceOptions) => Instance };
/** The input of one batch-1 request: the zoo's ImageNet shape, or the text-orientation classifier's crop. */
const INPUTS: Record<string, { name: string; shape: number[] }> = {
  [TEXT_ORIENTATION]: { name: 'x', shape: [1, 3, 48, 192] },
};
let input = (): TensorMap => ({});
function inputFor(model: string): void {
  const { name, shape } = INPUTS[model] ?? { name: 'input', shape: [1, 3, 224, 224] };
  const x = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5);
  input = () => ({ [name]: { datatype: 'FP32', shape, data: x.slice() } });
}

async function startInstance(runtime: Runtime, file: string, name: string, mode: Mode): Promise<Instance> {
  const setting = SETTINGS[mode];
  const inst = new runtime.ModelInstance({
    name,
    file,
    warmup: [{ inputs: input(), runs: 2 }],
    ...(setting.resourceLimits ? { resourceLimits: setting.resourceLimits } : {}),
    session: {
      intraOpThreads: 1,
      interOpThreads: 1,
      spinning: false,
      executionProviders: ['cpu'],
      ...setting.session,
    },
  });
  await inst.start();
  return inst;
}

/** Closed loop at concurrency = instances, round robin: inferences per second and the runs' compute times. */
async function measure(instances: Instance[], ms: number): Promise<{ inferPerS: number; p10ComputeMs: number }> {
  let next = 0;
  const compute: number[] = [];
  const send = () =>
    instances[next++ % instances.length].run(input()).then((r) => compute.push(r.computeEnd - r.computeStart));
  const r = await runClosedLoop(send, { concurrency: instances.length, durationMs: ms, keepLatencies: false });
  compute.sort((a, b) => a - b);
  return { inferPerS: r.ok / r.seconds, p10ComputeMs: compute[Math.floor(compute.length / 10)] ?? Number.NaN };
}

/**
 * Fills this thread's young generation with short-lived objects, twice over, so that its pages (32 MiB
 * under the serving heap flags) are resident before the base is read: they are the process's, not
 * the first instance's.
 */
function touchYoungGeneration(): void {
  let keep: number[] = [];
  for (let i = 0; i < 4_000_000; i++) keep = [i, keep.length];
  if (keep.length < 0) console.log(keep);
}

async function memoryChild(runtime: Runtime, model: string, file: string, mode: Mode, n: number, seconds: number) {
  touchYoungGeneration();
  const base = memory();
  const instances: Instance[] = [];
  let firstLoadMs = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    instances.push(await startInstance(runtime, file, `${model}#${i}`, mode));
    if (i === 0) firstLoadMs = performance.now() - t0;
  }
  const loaded = memory();
  let peak = loaded.pss;
  const sampler = setInterval(() => (peak = Math.max(peak, memory().pss)), 100);
  await measure(instances, 1000);
  const { inferPerS } = await measure(instances, seconds * 1000);
  clearInterval(sampler);
  const o = instances[0].sessionOptions;
  const onOff = (v: boolean | undefined) => (v === false ? 'off' : 'on');
  const options = `prepacking ${onOff(o.prepacking)}, memory pattern ${onOff(o.memPattern)}`;
  const row: Row = {
    model,
    mode,
    n,
    pssMB: (loaded.pss - base.pss) / MB,
    peakMB: (peak - base.pss) / MB,
    anonMB: (loaded.anon - base.anon) / MB,
    fileMB: (loaded.file - base.file) / MB,
    inferPerS,
    firstLoadMs,
    shared: instances.filter((i) => i.weights === 'shared').length,
    note: [options, ...new Set(instances.map((i) => i.weightsNote).filter(Boolean))].join('; '),
  };
  for (const inst of instances) await inst.stop();
  return row;
}

async function pairChild(runtime: Runtime, model: string, file: string, a: Mode, b: Mode, n: number, rounds: number) {
  const sets: Record<'a' | 'b', Instance[]> = { a: [], b: [] };
  for (let i = 0; i < n; i++) {
    sets.a.push(await startInstance(runtime, file, `${model}#a${i}`, a));
    sets.b.push(await startInstance(runtime, file, `${model}#b${i}`, b));
  }
  await measure(sets.a, 1000);
  await measure(sets.b, 1000);
  const ratios: number[] = [];
  const speeds: number[] = [];
  const sums = { a: 0, b: 0 };
  for (let r = 0; r < rounds; r++) {
    const order: ('a' | 'b')[] = r % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
    const got: Partial<Record<'a' | 'b', Awaited<ReturnType<typeof measure>>>> = {};
    for (const k of order) got[k] = await measure(sets[k], 1000);
    const [ma, mb] = [got.a!, got.b!];
    sums.a += ma.inferPerS;
    sums.b += mb.inferPerS;
    ratios.push(ma.inferPerS / mb.inferPerS);
    speeds.push(mb.p10ComputeMs / ma.p10ComputeMs);
  }
  for (const inst of [...sets.a, ...sets.b]) await inst.stop();
  return {
    model,
    a,
    b,
    n,
    aPerS: sums.a / rounds,
    bPerS: sums.b / rounds,
    ratio: median(ratios),
    speed: median(speeds),
    ratios,
  };
}

function runChild<T>(args: string[]): Promise<T> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...HEAP_FLAGS, '--import', 'tsx', self, '--child', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('ROW '));
      if (line) resolve(JSON.parse(line.slice(4)) as T);
      else reject(new Error(`child ${args.join(' ')} exited with ${code}: ${out}`));
    });
  });
}

function parseModes(list: string): Mode[] {
  const modes = list.split(',').filter(Boolean) as Mode[];
  for (const m of modes) {
    if (!(m in SETTINGS)) throw new Error(`unknown mode "${m}" (known: ${Object.keys(SETTINGS).join(', ')})`);
  }
  return modes;
}

/** Compiles src/ into a folder under tmp/, as `tenancy` runs when installed; returns the folder. */
function compile(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const build = path.join(root, 'tmp', `bench-memory-build-${process.pid}`);
  console.error(`compiling src/ into ${path.relative(root, build)} ...`);
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', build], {
    cwd: root,
    stdio: 'inherit',
  });
  return build;
}

async function writeModel(dir: string, model: string): Promise<string> {
  if (model === TEXT_ORIENTATION) await writeTextOrientationModel(dir);
  else await writeZooModel(dir, model as ZooName);
  return path.join(dir, model, '1', 'model.onnx');
}

const STEPS_SETTINGS: StepsSetting[] = [
  {
    label: "ONNX Runtime's options, V8's worker heap",
    options: { prepacking: true, memPattern: true },
    resourceLimits: {},
  },
  { label: "tenancy's", options: 'lean' },
];

/** bench:memory --steps: what each instance adds, step by step, before and after. */
async function steps(): Promise<void> {
  const models = arg('models', `mobilenet_v2,resnet50,${TEXT_ORIENTATION}`).split(',');
  const n = Number(arg('instances', '2'));
  const dir = await tempDir('tenancy-bench-memory-steps-');
  const build = compile();
  const rows: StepRow[] = [];
  try {
    for (const model of models) {
      const source = await writeModel(dir, model);
      const copy = path.join(dir, `${model}-shared`, 'model.onnx');
      await mkdir(path.dirname(copy), { recursive: true });
      writeCopy(build, source, copy);
      for (const setting of STEPS_SETTINGS) {
        const args = [build, model, copy, JSON.stringify(setting), String(n)];
        rows.push(...(await runStepsChild(fileURLToPath(import.meta.url), args)));
      }
    }
  } finally {
    await removeDir(dir);
    await removeDir(build);
  }
  printSteps(rows);
}

async function main() {
  const seconds = Number(arg('seconds', '3'));
  const rounds = Number(arg('rounds', '5'));
  const modes = parseModes(arg('modes', 'private,shared,chosen'));
  const pairList = arg('pairs', 'shared:private,chosen:shared')
    .split(',')
    .filter(Boolean)
    .map((p) => parseModes(p.replace(':', ',')) as [Mode, Mode]);
  const counts = arg('counts', '1,2,4,8').split(',').map(Number);
  const models = arg('models', 'mobilenet_v2,resnet50').split(',') as (ZooName | typeof TEXT_ORIENTATION)[];
  const dir = await tempDir('tenancy-bench-memory-');
  const build = compile();
  const rows: Row[] = [];
  const pairs: Pair[] = [];
  try {
    for (const model of models) {
      const file = await writeModel(dir, model);
      for (const n of counts) {
        for (const mode of modes) {
          const row = await runChild<Row>(['memory', build, model, file, mode, '-', String(n), String(seconds)]);
          rows.push(row);
          console.error(`${model} ${mode} x${n}: ${row.pssMB.toFixed(0)} MB, ${row.inferPerS.toFixed(1)} inf/s`);
        }
        for (const [a, b] of rounds > 0 ? pairList : []) {
          const p = await runChild<Pair>(['pair', build, model, file, a, b, String(n), String(rounds)]);
          pairs.push(p);
          console.error(`${model} x${n} paired: ${a}/${b} ${p.ratio.toFixed(3)}, speed ${p.speed.toFixed(3)}`);
        }
      }
    }
  } finally {
    await removeDir(dir);
    await removeDir(build);
  }
  printMemory(rows);
  printGoal(rows);
  printPairs(pairs);
}

const one = (rows: Row[], r: Row) => rows.find((o) => o.model === r.model && o.mode === r.mode && o.n === 1);

function printMemory(rows: Row[]): void {
  const priv = (r: Row) => rows.find((o) => o.model === r.model && o.mode === 'private' && o.n === r.n);
  console.log(
    '| model | setting | instances | PSS after warm-up MB | x one instance | peak under load MB |' +
      ' anon MB | file MB | inf/s | inf/s vs private | first load ms |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const base = one(rows, r);
    const p = priv(r);
    const cells = [
      r.model,
      r.mode === 'private' ? 'private' : `${r.mode} (${r.shared}/${r.n} shared)`,
      r.n,
      r.pssMB.toFixed(0),
      base ? (r.pssMB / base.pssMB).toFixed(2) : '',
      r.peakMB.toFixed(0),
      r.anonMB.toFixed(0),
      r.fileMB.toFixed(0),
      r.inferPerS.toFixed(1),
      p && r.mode !== 'private' ? (r.inferPerS / p.inferPerS).toFixed(3) : '',
      r.firstLoadMs.toFixed(0),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log('');
  for (const r of rows.filter((o) => o.n === 1)) console.log(`${r.model} ${r.mode}: ${r.note}`);
}

/** Issue 20's goal per model and setting: N instances < GOAL_RATIO x one, for every N measured. */
function printGoal(rows: Row[]): void {
  console.log('');
  console.log(`Goal: N instances < ${GOAL_RATIO}x the PSS of one instance, for N up to 8 (issue 20)`);
  console.log('| model | setting | N: ratio to one instance | goal |');
  console.log('| --- | --- | --- | --- |');
  const groups = new Map<string, Row[]>();
  for (const r of rows) groups.set(`${r.model} ${r.mode}`, [...(groups.get(`${r.model} ${r.mode}`) ?? []), r]);
  for (const list of groups.values()) {
    const base = one(list, list[0]);
    const many = list.filter((r) => r.n > 1);
    if (!base || many.length === 0) continue;
    const cells = many.map((r) => {
      const ratio = r.pssMB / base.pssMB;
      return `${r.n}: ${ratio.toFixed(2)}x ${ratio < GOAL_RATIO ? 'PASS' : 'FAIL'}`;
    });
    const all = many.every((r) => r.pssMB / base.pssMB < GOAL_RATIO);
    const largest = Math.max(...many.map((r) => r.n));
    console.log(
      `| ${list[0].model} | ${list[0].mode} | ${cells.join(', ')} | ${all ? 'PASS' : 'FAIL'} up to ${largest} |`,
    );
  }
}

function printPairs(pairs: Pair[]): void {
  if (!pairs.length) return;
  console.log('');
  console.log('Throughput paired: a and b take turns in 1-second slices in one process');
  console.log(
    '| model | a vs b | instances | a inf/s | b inf/s | a / b inf/s (median) | speed a vs b (p10 compute, median) |' +
      ' per round a / b |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const p of pairs) {
    const each = p.ratios.map((r) => r.toFixed(3)).join(' ');
    const cells = [
      p.model,
      `${p.a} vs ${p.b}`,
      p.n,
      p.aPerS.toFixed(1),
      p.bPerS.toFixed(1),
      p.ratio.toFixed(3),
      p.speed.toFixed(3),
      each,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

/** bench:memory --idle: the idle server's memory by source, with an empty repository and with the models. */
async function idle(): Promise<void> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  console.error('building dist/ (npm run build) ...');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  const idleMs = Number(arg('idle-s', '20')) * 1000;
  const repo = arg('repo', '');
  const envs = process.argv.flatMap((a, i) => (a === '--env' ? [process.argv[i + 1]] : []));
  const empty = await tempDir('tenancy-bench-idle-empty-');
  const readings: IdleReading[] = [];
  try {
    readings.push(await measureIdleServer({ root, label: 'empty repository', repo: empty, idleMs }));
    const label = repo ? path.basename(repo) : 'default repository';
    readings.push(await measureIdleServer({ root, label, repo: repo || undefined, idleMs }));
    for (const e of envs) {
      const [k, ...v] = e.split('=');
      const env = { [k]: v.join('=') };
      readings.push(await measureIdleServer({ root, label: `${label}, ${e}`, repo: repo || undefined, idleMs, env }));
    }
  } finally {
    await removeDir(empty);
  }
  console.log(`Idle \`tenancy serve\`, ${idleMs / 1000} s after ready (benchmarks/idle-breakdown.ts)`);
  printIdle(readings);
}

if (process.argv[2] === '--child') {
  const [kind, build, model, file, a, b, n, last] = process.argv.slice(3);
  inputFor(model);
  const runtime = (await import(path.join(build, 'runtime', 'index.js'))) as Runtime;
  const row =
    kind === 'memory'
      ? await memoryChild(runtime, model, file, a as Mode, Number(n), Number(last))
      : await pairChild(runtime, model, file, a as Mode, b as Mode, Number(n), Number(last));
  process.stdout.write(`ROW ${JSON.stringify(row)}\n`);
} else if (process.argv[2] === '--steps-child') {
  const [build, model, file, setting, n] = process.argv.slice(3);
  process.stdout.write(`ROWS ${JSON.stringify(await stepsChild(build, model, file, setting, Number(n)))}\n`);
} else if (process.argv.includes('--idle')) {
  await idle();
} else if (process.argv.includes('--steps')) {
  await steps();
} else {
  await main();
}
