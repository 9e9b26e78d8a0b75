/**
 * bench:memory — what N instances of a model cost in memory with and without shared weights, and
 * what sharing costs in throughput. For MobileNet V2 and ResNet-50 from the zoo, for 1, 2, 4 and 8
 * instances (worker threads, 1 intra-op thread each), private copies and shared weights
 * (src/runtime/shared-weights.ts) alternate, each setting in a fresh Node process, so that no
 * setting inherits another's heap. Per setting:
 *   memory: the process's proportional set size (PSS, /proc/self/smaps_rollup: anonymous memory
 *           plus its share of mapped file pages, so a page-cache page mapped by several sessions
 *           counts once) after load and warm-up, minus the same process's PSS before the first
 *           instance; also the peak during the throughput run (sampled every 100 ms);
 *   throughput alone: closed loop at concurrency N (one outstanding batch-1 request per instance)
 *           for --seconds after a 1-second warm-up, in that setting's own process;
 *   throughput paired: N private and N shared instances loaded in one process take turns in
 *           1-second closed-loop slices for --rounds rounds (order alternating); the cost of
 *           sharing is the median of the per-round ratios, since this shared machine drifts by
 *           more than 3% between separate runs.
 * The instances come from src/ compiled first (into tmp/, with tsc -p tsconfig.build.json), as
 * `tenancy` runs when installed: under tsx each worker thread would compile TypeScript itself and
 * hold ~30 MB more, which would measure tsx, not the instances.
 * The goal (issue 20): N instances < 1.5x the memory of one up to N = 8, sharing costing < 3%.
 * Settings: private copies; shared weights; shared weights with ONNX Runtime's prepacking off
 * (session.disable_prepacking: no kernel keeps a repacked private copy of a weight).
 * Usage: npm run bench:memory [-- --seconds 3 --rounds 5 --counts 1,2,4,8 --models mobilenet_v2,resnet50
 *   --modes private,shared,shared-noprepack]
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelInstance as Instance, InstanceOptions } from '../src/runtime/index.js';
import { runClosedLoop } from '../src/bench/closed-loop.js';
import { removeDir, tempDir } from '../src/bench/scratch-repo.js';
import { median } from '../src/bench/latency-summary.js';
import { writeZooModel, type ZooName } from '../src/zoo/index.js';
import type { TensorMap } from '../src/tensor.js';

const MB = 2 ** 20;
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
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
  note: string;
}

function memory(): { pss: number; anon: number; file: number } {
  const t = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0) * 1024;
  return { pss: kb('Pss'), anon: kb('Pss_Anon'), file: kb('Pss_File') };
}

type Pair = Awaited<ReturnType<typeof pairChild>>;
type Runtime = { ModelInstance: new (o: InstanceOptions) => Instance };
const X = new Float32Array(3 * 224 * 224).fill(0.5);
const input = (): TensorMap => ({ input: { datatype: 'FP32', shape: [1, 3, 224, 224], data: X.slice() } });

type Mode = 'private' | 'shared' | 'shared-noprepack';

async function startInstance(runtime: Runtime, file: string, name: string, share: Mode): Promise<Instance> {
  const inst = new runtime.ModelInstance({
    name,
    file,
    warmup: input(),
    session: {
      intraOpThreads: 1,
      interOpThreads: 1,
      spinning: false,
      executionProviders: ['cpu'],
      shareWeights: share !== 'private',
      prepacking: share !== 'shared-noprepack',
    },
  });
  await inst.start();
  return inst;
}

/** Closed loop at concurrency = instances, round robin; inferences per second. */
async function throughput(instances: Instance[], ms: number): Promise<number> {
  let next = 0;
  const send = () => instances[next++ % instances.length].run(input());
  const r = await runClosedLoop(send, { concurrency: instances.length, durationMs: ms, keepLatencies: false });
  return r.ok / r.seconds;
}

async function memoryChild(runtime: Runtime, model: string, file: string, mode: string, n: number, seconds: number) {
  const base = memory();
  const instances: Instance[] = [];
  let firstLoadMs = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    instances.push(await startInstance(runtime, file, `${model}#${i}`, mode as Mode));
    if (i === 0) firstLoadMs = performance.now() - t0;
  }
  const loaded = memory();
  let peak = loaded.pss;
  const sampler = setInterval(() => (peak = Math.max(peak, memory().pss)), 100);
  await throughput(instances, 1000);
  const inferPerS = await throughput(instances, seconds * 1000);
  clearInterval(sampler);
  const row: Row = {
    model,
    mode: mode as Row['mode'],
    n,
    pssMB: (loaded.pss - base.pss) / MB,
    peakMB: (peak - base.pss) / MB,
    anonMB: (loaded.anon - base.anon) / MB,
    fileMB: (loaded.file - base.file) / MB,
    inferPerS,
    firstLoadMs,
    shared: instances.filter((i) => i.weights === 'shared').length,
    note: [...new Set(instances.map((i) => i.weightsNote).filter(Boolean))].join('; '),
  };
  for (const inst of instances) await inst.stop();
  return row;
}

async function pairChild(runtime: Runtime, model: string, file: string, mode: string, n: number, rounds: number) {
  const own: Instance[] = [];
  const shared: Instance[] = [];
  for (let i = 0; i < n; i++) {
    own.push(await startInstance(runtime, file, `${model}#p${i}`, 'private'));
    shared.push(await startInstance(runtime, file, `${model}#s${i}`, mode as Mode));
  }
  await throughput(own, 1000);
  await throughput(shared, 1000);
  const ratios: number[] = [];
  const sums = { own: 0, shared: 0 };
  for (let r = 0; r < rounds; r++) {
    const first = r % 2 === 0;
    const a = first ? await throughput(own, 1000) : 0;
    const b = await throughput(shared, 1000);
    const c = first ? a : await throughput(own, 1000);
    sums.own += c;
    sums.shared += b;
    ratios.push(b / c);
  }
  for (const inst of [...own, ...shared]) await inst.stop();
  return { model, mode, n, own: sums.own / rounds, shared: sums.shared / rounds, ratio: median(ratios), ratios };
}

function runChild<T>(args: string[]): Promise<T> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', self, '--child', ...args], {
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

async function main() {
  const seconds = Number(arg('seconds', '3'));
  const rounds = Number(arg('rounds', '5'));
  const modes = arg('modes', 'private,shared,shared-noprepack').split(',') as Mode[];
  const counts = arg('counts', '1,2,4,8').split(',').map(Number);
  const models = arg('models', 'mobilenet_v2,resnet50').split(',') as ZooName[];
  const dir = await tempDir('tenancy-bench-memory-');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const build = path.join(root, 'tmp', `bench-memory-build-${process.pid}`);
  console.error(`compiling src/ into ${path.relative(root, build)} ...`);
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', build],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  const rows: Row[] = [];
  const pairs: Pair[] = [];
  try {
    for (const model of models) {
      await writeZooModel(dir, model);
      const file = path.join(dir, model, '1', 'model.onnx');
      for (const n of counts) {
        for (const mode of modes) {
          const row = await runChild<Row>(['memory', build, model, file, mode, String(n), String(seconds)]);
          rows.push(row);
          console.error(`${model} ${mode} x${n}: ${row.pssMB.toFixed(0)} MB, ${row.inferPerS.toFixed(1)} inf/s`);
        }
        for (const mode of modes.filter((m) => m !== 'private' && rounds > 0)) {
          const p = await runChild<Pair>(['pair', build, model, file, mode, String(n), String(rounds)]);
          pairs.push(p);
          console.error(`${model} x${n} paired: ${mode}/private ${p.ratio.toFixed(3)}`);
        }
      }
    }
  } finally {
    await removeDir(dir);
    await removeDir(build);
  }
  const one = (r: Row) => rows.find((o) => o.model === r.model && o.mode === r.mode && o.n === 1);
  const pair = (r: Row) => rows.find((o) => o.model === r.model && o.mode === 'private' && o.n === r.n);
  console.log(
    '| model | weights | instances | PSS after warm-up MB | x one instance | peak under load MB |' +
      ' anon MB | file MB | inf/s | inf/s vs private | first load ms |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const base = one(r);
    const priv = pair(r);
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
      priv && r.mode !== 'private' ? (r.inferPerS / priv.inferPerS).toFixed(3) : '',
      r.firstLoadMs.toFixed(0),
    ];
    console.log(`| ${cells.join(' | ')} |`);
    if (r.note) console.log(`  ${r.model} x${r.n}: ${r.note}`);
  }
  if (pairs.length) {
    console.log('');
    console.log(
      '| model | weights | instances | private inf/s | sharing inf/s | sharing / private (median) | rounds |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const p of pairs) {
      const each = p.ratios.map((r) => r.toFixed(3)).join(' ');
      const cells = [p.model, p.mode, p.n, p.own.toFixed(1), p.shared.toFixed(1), p.ratio.toFixed(3), each];
      console.log(`| ${cells.join(' | ')} |`);
    }
  }
}

if (process.argv[2] === '--child') {
  const [kind, build, model, file, mode, n, seconds] = process.argv.slice(3);
  const runtime = (await import(path.join(build, 'runtime', 'index.js'))) as Runtime;
  const row =
    kind === 'memory'
      ? await memoryChild(runtime, model, file, mode, Number(n), Number(seconds))
      : await pairChild(runtime, model, file, mode, Number(n), Number(seconds));
  process.stdout.write(`ROW ${JSON.stringify(row)}\n`);
} else {
  await main();
}
