/**
 * Where an idle `tenancy serve` keeps its memory (bench:memory --idle): starts the compiled server
 * (dist/, as installed; the serving heap flags on its command line) on free ports with a model
 * repository, waits until it is ready and then idle for a while, and reads
 *   - /proc/PID/smaps, mapping by mapping, summed by source: the model files (weights mapped by the
 *     sessions), node, ONNX Runtime and the other libraries, glibc's per-thread malloc heaps
 *     (64 MiB-aligned anonymous mappings), the main malloc heap ([heap]), and the other anonymous
 *     memory (V8 heaps, thread stacks, blocks malloc maps on its own);
 *   - every thread's V8 heap (v8.getHeapStatistics in the main thread and in each worker thread,
 *     written by a preloaded module) and its ArrayBuffers.
 * RSS counts a file page once per mapping that maps it (two sessions mapping the same weights count
 * them twice); PSS counts it once per process. Both are printed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HEAP_FLAGS } from '../src/server/heap-flags.js';
import { freePort } from '../test/fixtures/serve-process.js';

const MB = 2 ** 20;
const ALIGN_64M = 64 * MB;

export interface Source {
  rss: number;
  pss: number;
  anon: number;
}

/** Sums /proc/PID/smaps by where each mapping's memory comes from, bytes. */
export function smapsBySource(text: string): Map<string, Source> {
  const out = new Map<string, Source>();
  let cur: Source | undefined;
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-[0-9a-f]+ (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) {
      const name = sourceOf(m[3].trim(), Number.parseInt(m[1], 16), m[2]);
      cur = out.get(name) ?? { rss: 0, pss: 0, anon: 0 };
      out.set(name, cur);
      continue;
    }
    const k = /^(Rss|Pss|Anonymous):\s+(\d+) kB/.exec(line);
    if (k && cur) cur[k[1] === 'Rss' ? 'rss' : k[1] === 'Pss' ? 'pss' : 'anon'] += Number(k[2]) * 1024;
  }
  return out;
}

function sourceOf(file: string, start: number, perms: string): string {
  if (!file) return start % ALIGN_64M === 0 && perms.startsWith('rw') ? 'malloc: thread heaps' : 'anonymous: other';
  if (file === '[heap]') return 'malloc: main heap';
  if (file.startsWith('[')) return 'anonymous: other';
  if (/\.onnx$|weights\.bin$/.test(file)) return 'model files';
  if (/onnxruntime/.test(file)) return 'onnxruntime libraries';
  if (/sharp|vips/.test(file)) return 'sharp / libvips';
  if (/(^|\/)node$/.test(file)) return 'node';
  return 'other libraries and files';
}

/** Written by every thread of the server into PROBE_DIR (preloaded with --import). */
const PROBE = `
import { threadId } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
const dir = process.env.TENANCY_IDLE_PROBE_DIR;
if (dir) setInterval(() => {
  const h = v8.getHeapStatistics();
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  const m = process.memoryUsage();
  writeFileSync(dir + '/' + threadId + '.json', JSON.stringify({ threadId, heap: h.total_physical_size,
    young: young ? young.physical_space_size : 0, arrayBuffers: m.arrayBuffers }));
}, 1000).unref();
`;

export interface ThreadHeap {
  threadId: number;
  heap: number;
  young: number;
  arrayBuffers: number;
}

export interface IdleReading {
  label: string;
  sources: Map<string, Source>;
  total: Source;
  threads: number;
  heaps: ThreadHeap[];
  readyMs: number;
}

function ready(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/health/ready', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Starts `tenancy serve` (dist/), waits until ready and `idleMs` more, reads its memory, stops it. */
export async function measureIdleServer(options: {
  root: string;
  label: string;
  repo?: string;
  idleMs: number;
  env?: Record<string, string>;
}): Promise<IdleReading> {
  const probeDir = mkdtempSync(path.join(os.tmpdir(), 'tenancy-idle-probe-'));
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const args = [
    ...HEAP_FLAGS,
    '--import',
    `data:text/javascript,${encodeURIComponent(PROBE)}`,
    path.join(options.root, 'bin', 'tenancy.js'),
    'serve',
    ...(options.repo ? ['--repo', options.repo] : []),
    ...['--http-port', String(http), '--grpc-port', String(grpc), '--metrics-port', String(metrics)],
    ...['--profiles', 'none'],
  ];
  const child = spawn(process.execPath, args, {
    cwd: options.root,
    env: { ...process.env, ...options.env, TENANCY_IDLE_PROBE_DIR: probeDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const t0 = performance.now();
  try {
    while (!(await ready(http))) {
      if (child.exitCode !== null) throw new Error(`tenancy serve exited (${child.exitCode}): ${stderr}`);
      if (performance.now() - t0 > 300_000) throw new Error('tenancy serve was not ready within 300 s');
      await sleep(250);
    }
    const readyMs = performance.now() - t0;
    await sleep(options.idleMs);
    const sources = smapsBySource(readFileSync(`/proc/${child.pid}/smaps`, 'utf8'));
    const total = { rss: 0, pss: 0, anon: 0 };
    for (const s of sources.values()) for (const k of ['rss', 'pss', 'anon'] as const) total[k] += s[k];
    const threads = readdirSync(`/proc/${child.pid}/task`).length;
    const heaps = readdirSync(probeDir)
      .map((f) => JSON.parse(readFileSync(path.join(probeDir, f), 'utf8')) as ThreadHeap)
      .sort((a, b) => a.threadId - b.threadId);
    return { label: options.label, sources, total, threads, heaps, readyMs };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(probeDir, { recursive: true, force: true });
  }
}

/** The readings side by side: one row per source, RSS / PSS in MB. */
export function printIdle(readings: IdleReading[]): void {
  const f = (b: number) => (b / MB).toFixed(1);
  console.log(`| source | ${readings.map((r) => `${r.label}: RSS / PSS MB`).join(' | ')} |`);
  console.log(`| --- | ${readings.map(() => '---').join(' | ')} |`);
  const names = [...new Set(readings.flatMap((r) => [...r.sources.keys()]))].sort();
  for (const name of names) {
    const cells = readings.map((r) => {
      const s = r.sources.get(name);
      return s ? `${f(s.rss)} / ${f(s.pss)}` : '-';
    });
    console.log(`| ${name} | ${cells.join(' | ')} |`);
  }
  console.log(`| **total** | ${readings.map((r) => `**${f(r.total.rss)} / ${f(r.total.pss)}**`).join(' | ')} |`);
  console.log(`| of it anonymous | ${readings.map((r) => f(r.total.anon)).join(' | ')} |`);
  const heap = (r: IdleReading, main: boolean) =>
    r.heaps.filter((h) => (h.threadId === 0) === main).map((h) => f(h.heap));
  console.log(`| V8 heap, main thread | ${readings.map((r) => heap(r, true).join(' ') || '-').join(' | ')} |`);
  const young = readings.map((r) => f(r.heaps.find((h) => h.threadId === 0)?.young ?? 0));
  console.log(`| of it young generation | ${young.join(' | ')} |`);
  const ab = readings.map((r) => f(r.heaps.find((h) => h.threadId === 0)?.arrayBuffers ?? 0));
  console.log(`| ArrayBuffers, main thread | ${ab.join(' | ')} |`);
  console.log(`| V8 heap per worker thread | ${readings.map((r) => heap(r, false).join(' ') || '-').join(' | ')} |`);
  console.log(`| threads | ${readings.map((r) => r.threads).join(' | ')} |`);
  console.log(`| ready after s | ${readings.map((r) => (r.readyMs / 1000).toFixed(1)).join(' | ')} |`);
}
