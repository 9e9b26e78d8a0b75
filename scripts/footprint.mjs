#!/usr/bin/env node
/**
 * `npm run footprint`: what tenancy costs on a device, measured the way a device gets it.
 * 1. `npm pack` (prepare compiles dist/),
 *    then `npm install --omit=dev <tarball>` into an empty folder, as README "Install on a device"
 *    says (postinstall removes the other platforms' onnxruntime binaries). Prints the tarball, the
 *    install's node_modules and its largest packages, and checks that no dev dependency came along.
 * 2. Starts that install's `tenancy serve` with the default repository on free ports, twice: the
 *    first start builds the repository, the second finds it built. Prints the time from spawn to
 *    serving (the first HTTP answer: the ports open before the models load) and to the first 200
 *    from /v2/health/ready (every model loaded), and the idle
 *    RSS and PSS of the server process and its children (VmRSS, smaps_rollup's Pss, after it sat idle).
 * 3. Loads each model with 1, 2, 3 instances in turn and prints the RSS and PSS each added.
 * Usage: node scripts/footprint.mjs [--dir DIR] [--reuse] [--idle-ms N] [--env NAME=VALUE] [--json FILE]
 *   --dir DIR   install there (default: a new folder under the system's temp folder, removed after)
 *   --reuse     DIR already holds an install: skip pack and install, measure the server only
 *   --idle-ms N how long each server sits idle before it is measured (default 20000)
 *   --env       an environment variable for the servers (repeatable), e.g. MALLOC_MMAP_THRESHOLD_=131072
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const GOALS = { installMB: 150, idleOverWeightsMB: 80, servingS: 2 };
const DEV_ONLY = ['typescript', 'tsx', '@biomejs/biome', 'dependency-cruiser', 'autocannon', 'fast-check', 'esbuild'];

/** Servers started here, killed when the script fails. */
const children = new Set();

function fail(message) {
  for (const c of children) c.kill('SIGKILL');
  process.stderr.write(`error: footprint: ${message}\n`);
  process.exit(1);
}

function args(argv) {
  // 20 s idle: the engine's idle collections (src/runtime/idle-gc.ts) start 6 s after the last load.
  const out = { dir: undefined, reuse: false, idleMs: 20_000, json: undefined, env: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dir') out.dir = argv[++i];
    else if (a === '--reuse') out.reuse = true;
    else if (a === '--idle-ms') out.idleMs = Number(argv[++i]);
    else if (a === '--json') out.json = argv[++i];
    else if (a === '--env') {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(argv[++i] ?? '');
      if (!m) fail('--env takes NAME=VALUE');
      out.env[m[1]] = m[2];
    } else
      fail(
        `unknown argument "${a}" ` +
          '(usage: footprint [--dir DIR] [--reuse] [--idle-ms N] [--env NAME=VALUE] [--json FILE])',
      );
  }
  if (out.reuse && !out.dir) fail('--reuse needs --dir DIR of an earlier install');
  if (!Number.isFinite(out.idleMs) || out.idleMs < 0) fail('--idle-ms takes a number of milliseconds');
  return out;
}

/** Bytes of the files under p (as `du -sb` counts apparent sizes; links not followed). */
function sizeOf(p) {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink()) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(p)) {
    const child = path.join(p, name);
    const cst = statSync(child, { throwIfNoEntry: false });
    if (cst && !cst.isSymbolicLink()) total += cst.isDirectory() ? sizeOf(child) : cst.size;
  }
  return total;
}

const mb = (bytes) => bytes / 1e6;
const fmt = (bytes) => `${mb(bytes).toFixed(1)} MB`;

/** Every package folder under a node_modules tree (scoped ones included, nested ones too). */
function packages(nodeModules, out = []) {
  if (!existsSync(nodeModules)) return out;
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith('.')) continue;
    const dir = path.join(nodeModules, name);
    if (name.startsWith('@')) {
      for (const sub of readdirSync(dir)) out.push({ name: `${name}/${sub}`, dir: path.join(dir, sub) });
    } else out.push({ name, dir });
  }
  for (const p of [...out]) {
    const nested = path.join(p.dir, 'node_modules');
    if (existsSync(nested) && !out.some((q) => q.dir.startsWith(nested))) packages(nested, out);
  }
  return out;
}

function run(cmd, argv, opts) {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (err) {
    const tail = `${err.stderr ?? ''}${err.stdout ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    fail(`${cmd} ${argv.join(' ')} failed: ${tail || err.message}`);
  }
}

function install(dir) {
  const packDir = path.join(dir, 'pack');
  mkdirSync(packDir, { recursive: true });
  const t0 = performance.now();
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: root }));
  const packS = (performance.now() - t0) / 1000;
  const tarball = path.join(packDir, packed[0].filename);
  const appDir = path.join(dir, 'app');
  mkdirSync(appDir, { recursive: true });
  writeFileSync(path.join(appDir, 'package.json'), '{ "name": "device", "private": true }\n');
  // onnxruntime-node would otherwise download CUDA libraries on linux-x64 (README, Install on a device).
  writeFileSync(path.join(appDir, '.npmrc'), 'onnxruntime-node-install=skip\n');
  const t1 = performance.now();
  run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', tarball], { cwd: appDir });
  const installS = (performance.now() - t1) / 1000;
  return { tarball, tarballBytes: statSync(tarball).size, files: packed[0].files.length, packS, installS, appDir };
}

function describeInstall(appDir) {
  const nm = path.join(appDir, 'node_modules');
  const pkgs = packages(nm).map((p) => ({ name: p.name, bytes: sizeOf(p.dir) }));
  // a nested package is counted in its parent too; the top list shows top-level and tenancy's own
  const top = pkgs
    .filter((p) => !p.name.includes('/node_modules/'))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 10);
  const names = new Set(pkgs.map((p) => p.name));
  const ortBin = packages(nm).find((p) => p.name === 'onnxruntime-node');
  const platforms = [];
  if (ortBin) {
    const bin = path.join(ortBin.dir, 'bin');
    for (const napi of existsSync(bin) ? readdirSync(bin) : [])
      for (const plat of readdirSync(path.join(bin, napi)))
        for (const arch of readdirSync(path.join(bin, napi, plat))) platforms.push(`${plat}/${arch}`);
  }
  const du = Number(run('du', ['-s', '-B1', nm]).split('\t')[0]);
  return {
    nodeModulesBytes: sizeOf(nm),
    diskBytes: du,
    packages: pkgs.length,
    top,
    devFound: DEV_ONLY.filter((n) => names.has(n)),
    onnxruntimePlatforms: platforms,
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function httpStatus(port, urlPath, method = 'GET', body, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, method, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.on('timeout', () => req.destroy());
    if (body) {
      req.setHeader('content-type', 'application/json');
      req.end(body);
    } else req.end();
  });
}

/**
 * VmRSS and Pss in bytes of pid and of every process below it. RSS counts a page in every mapping
 * of it, so weights that several sessions map (shared weights) count once per session; PSS divides
 * a shared page between its mappers, so they count once.
 */
function treeMemory(pid) {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(name), ppid);
    } catch {}
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [p, pp] of parents) if (pp === tree[i]) tree.push(p);
  let total = 0;
  let pss = 0;
  let processes = 0;
  for (const p of tree) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += m ? Number(m[1]) * 1024 : 0;
      const q = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      pss += q ? Number(q[1]) * 1024 : 0;
      processes++;
    } catch {}
  }
  return { total, pss, processes, threads: threadsOf(pid) };
}

function threadsOf(pid) {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  } catch {
    return 0;
  }
}

/** Extra environment of the servers (--env NAME=VALUE, repeatable), e.g. glibc's MALLOC_* tunables. */
let serverEnv = {};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts `tenancy serve` of the install and waits for readiness; returns the child and its times. */
async function startServer(appDir, label, extra = [], env = serverEnv) {
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const bin = path.join(appDir, 'node_modules', '.bin', 'tenancy');
  const argv = ['serve', '--http-port', `${http}`, '--grpc-port', `${grpc}`, '--metrics-port', `${metrics}`, ...extra];
  const t0 = performance.now();
  const child = spawn(bin, argv, { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    children.delete(child);
  });
  let firstAnswerS = null;
  for (;;) {
    if (exited) fail(`${label}: tenancy serve exited (${exited.code ?? exited.signal}) before ready: ${output.trim()}`);
    // a failure after the models loaded may leave the process alive (its worker threads): its line ends the wait
    const error = /^(error: .*)$/m.exec(output);
    if (error) fail(`${label}: tenancy serve failed before ready: ${error[1]}`);
    if (performance.now() - t0 > 300_000) fail(`${label}: not ready after 300 s`);
    const r = await httpStatus(http, '/v2/health/ready');
    if (r.status !== 0 && firstAnswerS === null) firstAnswerS = (performance.now() - t0) / 1000;
    if (r.status === 200) break;
    await sleep(20);
  }
  const readyS = (performance.now() - t0) / 1000;
  return { child, http, readyS, firstAnswerS, output: () => output, exited: () => exited };
}

async function stopServer(server) {
  if (server.exited()) return;
  const done = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await Promise.race([done, sleep(40_000)]);
  if (!server.exited()) server.child.kill('SIGKILL');
}

/** Sum of the model files of the repository the server built (the weights it holds in memory). */
function weightsOf(repoDir) {
  let total = 0;
  const models = {};
  for (const model of existsSync(repoDir) ? readdirSync(repoDir) : []) {
    const dir = path.join(repoDir, model);
    if (!statSync(dir).isDirectory()) continue;
    for (const v of readdirSync(dir)) {
      const f = path.join(dir, v, 'model.onnx');
      if (existsSync(f)) {
        models[model] = statSync(f).size;
        total += models[model];
      }
    }
  }
  return { total, models };
}

async function placement(port) {
  const r = await httpStatus(port, '/v2/placement');
  if (r.status !== 200) fail(`GET /v2/placement answered ${r.status}: ${r.text}`);
  return JSON.parse(r.text);
}

/** Instances of each model from GET /v2/placement's entries (model, device, instances, threads). */
function instancesByModel(p) {
  const out = {};
  for (const e of p.entries ?? []) out[e.model] = (out[e.model] ?? 0) + (e.instances ?? 0);
  return out;
}

/**
 * RSS per model and per instance: a server in explicit model control mode with nothing loaded,
 * then each model of the built repository loaded with 1, 2, 3 instances in turn (the repository
 * extension's load with the model's own config and instance_group count N, served as written).
 */
async function perInstance(appDir, idleMs, counts = [1, 2, 3]) {
  const repo = path.join(appDir, '.tenancy', 'models');
  const server = await startServer(appDir, 'explicit start', ['--model-control-mode', 'explicit', '--repo', repo]);
  try {
    await sleep(idleMs);
    const base = treeMemory(server.child.pid);
    const rows = [];
    let prev = base;
    for (const model of readdirSync(repo).filter((m) => existsSync(path.join(repo, m, 'config.json')))) {
      const config = JSON.parse(readFileSync(path.join(repo, model, 'config.json'), 'utf8'));
      for (const count of counts) {
        config.instance_group = [{ count, kind: 'KIND_CPU' }];
        const body = JSON.stringify({ parameters: { config: JSON.stringify(config) } });
        const r = await httpStatus(server.http, `/v2/repository/models/${model}/load`, 'POST', body, 120_000);
        if (r.status !== 200) {
          rows.push({ model, count, error: `load answered ${r.status}: ${r.text.slice(0, 200)}` });
          break;
        }
        await sleep(idleMs);
        const now = treeMemory(server.child.pid);
        rows.push({
          model,
          count,
          rssBytes: now.total,
          addedBytes: now.total - prev.total,
          pssBytes: now.pss,
          addedPssBytes: now.pss - prev.pss,
        });
        prev = now;
      }
    }
    return { baseBytes: base.total, basePssBytes: base.pss, rows };
  } finally {
    await stopServer(server);
  }
}

async function main() {
  const opts = args(process.argv.slice(2));
  serverEnv = opts.env;
  if (process.platform !== 'linux') fail('reads RSS from /proc: runs on linux only');
  const dir = opts.dir ? path.resolve(opts.dir) : mkdtempSync(path.join(os.tmpdir(), 'tenancy-footprint-'));
  const result = { measuredAt: new Date().toISOString(), platform: `${process.platform}-${process.arch}` };
  result.cores = os.availableParallelism();
  result.node = process.version;
  result.serverEnv = opts.env;
  if (Object.keys(opts.env).length)
    console.log(
      `servers run with ${Object.entries(opts.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
  let appDir = path.join(dir, 'app');
  try {
    if (!opts.reuse) {
      console.log(`packing and installing into ${dir} (npm pack; npm install --omit=dev <tarball>)`);
      const inst = install(dir);
      appDir = inst.appDir;
      result.pack = {
        tarballBytes: inst.tarballBytes,
        files: inst.files,
        packS: inst.packS,
        installS: inst.installS,
      };
      console.log(
        `tarball        ${fmt(inst.tarballBytes)} (${inst.files} files), packed in ${inst.packS.toFixed(1)} s, ` +
          `installed in ${inst.installS.toFixed(1)} s`,
      );
    } else if (!existsSync(path.join(appDir, 'node_modules', '.bin', 'tenancy')))
      fail(`--reuse: ${appDir} holds no install of tenancy`);
    const d = describeInstall(appDir);
    result.install = d;
    console.log(
      `node_modules   ${fmt(d.nodeModulesBytes)} of files, ${fmt(d.diskBytes)} on disk (du) ` +
        `(${d.packages} packages; goal <= ${GOALS.installMB} MB: ` +
        `${mb(d.nodeModulesBytes) <= GOALS.installMB ? 'met' : 'not met'})`,
    );
    console.log(`  largest: ${d.top.map((p) => `${p.name} ${mb(p.bytes).toFixed(1)}`).join(', ')}`);
    console.log(`  onnxruntime-node binaries: ${d.onnxruntimePlatforms.join(', ') || 'none'}`);
    console.log(`  dev dependencies present: ${d.devFound.join(', ') || 'none'}`);

    const built = existsSync(path.join(appDir, '.tenancy', 'models', '.complete'));
    const first = await startServer(appDir, 'first start');
    result.firstStart = { readyS: first.readyS, firstAnswerS: first.firstAnswerS };
    console.log(
      `first start    ready after ${first.readyS.toFixed(2)} s ` +
        `(${built ? 'repository already built' : 'builds the default repository'}; ` +
        `first HTTP answer at ${first.firstAnswerS.toFixed(2)} s)`,
    );
    await stopServer(first);

    const server = await startServer(appDir, 'second start');
    result.start = { readyS: server.readyS, firstAnswerS: server.firstAnswerS };
    // Serving means the ports answer, readiness telling the truth (400 until the loads end); the
    // loads themselves come after, and their end is the "ready" time.
    console.log(
      `start to serving ${server.firstAnswerS.toFixed(2)} s (ports open, readiness 400 until the loads end; ` +
        `goal within ${GOALS.servingS} s: ${server.firstAnswerS <= GOALS.servingS ? 'met' : 'not met'}); ` +
        `every model ready at ${server.readyS.toFixed(2)} s, repository built`,
    );
    await sleep(opts.idleMs);
    const idle = treeMemory(server.child.pid);
    const weights = weightsOf(path.join(appDir, '.tenancy', 'models'));
    const p = await placement(server.http);
    const counts = instancesByModel(p);
    const instances = Object.values(counts).reduce((a, b) => a + b, 0);
    result.idle = {
      rssBytes: idle.total,
      pssBytes: idle.pss,
      processes: idle.processes,
      threads: idle.threads,
      weights,
      counts,
    };
    const over = idle.total - weights.total;
    const overPss = idle.pss - weights.total;
    const judged = (bytes) => (mb(bytes) <= GOALS.idleOverWeightsMB ? 'met' : 'not met');
    console.log(
      `idle RSS       ${fmt(idle.total)}, PSS ${fmt(idle.pss)} after ${opts.idleMs} ms idle ` +
        `(${idle.processes} process(es), ` +
        `${idle.threads} threads; ${instances} instances: ${Object.entries(counts)
          .map(([m, n]) => `${m} ${n}`)
          .join(', ')})`,
    );
    console.log(
      `  model files ${fmt(weights.total)} (${Object.entries(weights.models)
        .map(([m, b]) => `${m} ${mb(b).toFixed(1)}`)
        .join(', ')}); goal <= ${GOALS.idleOverWeightsMB} MB + the weights:`,
    );
    console.log(`  RSS - model files = ${fmt(over)} (${judged(over)}; RSS counts mapped weights once per session)`);
    console.log(`  PSS - model files = ${fmt(overPss)} (${judged(overPss)}; PSS counts them once)`);
    await stopServer(server);
    const per = await perInstance(appDir, opts.idleMs);
    result.perInstance = per;
    console.log(
      `per model and instance (explicit mode, nothing loaded: ${fmt(per.baseBytes)} RSS, ` +
        `${fmt(per.basePssBytes)} PSS):`,
    );
    for (const a of per.rows)
      console.log(
        a.error
          ? `  ${a.model} x${a.count}: ${a.error}`
          : `  ${a.model} x${a.count}: RSS ${fmt(a.rssBytes)} (+${fmt(a.addedBytes)}), ` +
              `PSS ${fmt(a.pssBytes)} (+${fmt(a.addedPssBytes)}) for ` +
              `${a.count === 1 ? 'the model and its first instance' : 'one more instance'}` +
              (weights.models[a.model] ? ` (model file ${fmt(weights.models[a.model])})` : ''),
      );
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
