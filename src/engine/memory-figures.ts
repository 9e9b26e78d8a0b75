/**
 * Memory of the server, of each model and of each instance, as GET /v2/placement shows it
 * (`memory`). Measured where the kernel can tell: the server process, and an instance in its own
 * process (host "process"), from /proc/PID/status (VmRSS) and /proc/PID/smaps_rollup (Pss: its
 * resident memory with each page shared with other processes divided among them, so one shared
 * copy of a model's weights is counted once over the processes that map it). Estimated where it
 * cannot: an instance in a worker thread lives in the server's own address space, so it gets the
 * engine's estimate, the one admission (admission.ts) and placement fit against: a stored
 * profile's measured memory per instance where there is one, otherwise the figures fitted to
 * `npm run bench:memory`. Every figure says which it is (`source`) and how it was got (`how`).
 */
import { readFileSync } from 'node:fs';
import { estimateInstanceBytes, estimateSharedCopyBytes, type WeightsMode } from './admission.js';
import type { InstanceView, ModelView } from './model.js';

/** Resident memory of one process, from /proc; null where the kernel does not report it (not Linux). */
export interface ProcessMemory {
  pid: number;
  /** VmRSS of /proc/PID/status. */
  rssBytes: number | null;
  /** Pss of /proc/PID/smaps_rollup (Linux 4.14 and later). */
  pssBytes: number | null;
}

export interface InstanceMemory {
  instance: string;
  device: string;
  host: 'thread' | 'process';
  /** Its host process (a worker thread's is the server's); null before a process host has started. */
  pid: number | null;
  weights: WeightsMode;
  /** measured: its own process, read from /proc now; estimated: the engine's estimate (see `how`). */
  source: 'measured' | 'estimated';
  /**
   * Where the figure comes from: Pss of /proc/PID/smaps_rollup, VmRSS of /proc/PID/status, a
   * stored profile's measured memory per instance, or the admission's estimate from the file size.
   */
  basis: 'pss' | 'rss' | 'profile' | 'admission';
  /** PSS (RSS where the kernel gives no PSS) when measured; the estimate otherwise. */
  bytes: number;
  /** Measured instances only (null otherwise). */
  rssBytes: number | null;
  pssBytes: number | null;
  how: string;
}

export interface ModelMemory {
  model: string;
  version: number;
  /** Sum of its measured instances (those in processes of their own). */
  measuredBytes: number;
  /** Its estimated instances, plus the one shared copy of the weights they map when they share it. */
  estimatedBytes: number;
  /** The estimate of that one shared copy (0 when no worker-thread instance shares weights). */
  sharedCopyBytes: number;
  instances: InstanceMemory[];
}

export interface MemoryView {
  /**
   * The server process, measured: Node.js, V8, the front ends, ONNX Runtime's library and every
   * instance in a worker thread (not the instances in processes of their own).
   */
  server: ProcessMemory & { source: 'measured' };
  models: ModelMemory[];
  /** The server's PSS (RSS without one) and the measured instances' processes: the whole footprint. */
  totalBytes: number;
  /**
   * The server's PSS (or RSS) less the estimates of its worker-thread instances: what the server
   * holds apart from them (estimated, since those are; negative when the estimates are too high).
   */
  serverRestBytes: number;
  how: string;
}

const kB = (text: string, field: string): number | null => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : null;
};

function readProc(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** VmRSS and Pss of a process, read now (nulls where /proc does not have them, or the process is gone). */
export function processMemory(pid: number, proc = '/proc'): ProcessMemory {
  return {
    pid,
    rssBytes: kB(readProc(`${proc}/${pid}/status`), 'VmRSS'),
    pssBytes: kB(readProc(`${proc}/${pid}/smaps_rollup`), 'Pss'),
  };
}

const MB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

export interface MemoryFigureOptions {
  /** The server's process id; default this process. */
  pid?: number;
  /** Where /proc is (tests). */
  proc?: string;
  /** A stored profile's measured memory per instance of `model` on `device`, if there is one. */
  profileBytes?: (model: string, device: string) => number | undefined;
}

/** The memory view of the loaded model versions (every version: each holds its own instances). */
export function memoryFigures(models: readonly ModelView[], options: MemoryFigureOptions = {}): MemoryView {
  const proc = options.proc ?? '/proc';
  const server = { ...processMemory(options.pid ?? process.pid, proc), source: 'measured' as const };
  const out: ModelMemory[] = [];
  let threadEstimates = 0;
  let processes = 0;
  for (const m of models) {
    const instances = m.instances.map((i) => instanceMemory(m, i, server.pid, proc, options.profileBytes));
    // A profile's figure was measured with whatever the instances share; the admission's leaves the copy out.
    const sharing = instances.some((i) => i.basis === 'admission' && i.weights === 'shared' && i.host === 'thread');
    const sharedCopyBytes = sharing ? estimateSharedCopyBytes(m.file, 'shared') : 0;
    const sum = (source: InstanceMemory['source']) =>
      instances.filter((i) => i.source === source).reduce((n, i) => n + i.bytes, 0);
    const estimated = sum('estimated') + sharedCopyBytes;
    threadEstimates += instances
      .filter((i) => i.source === 'estimated' && i.host === 'thread')
      .reduce((n, i) => n + i.bytes, sharedCopyBytes);
    processes += sum('measured');
    out.push({
      model: m.name,
      version: m.version,
      measuredBytes: sum('measured'),
      estimatedBytes: estimated,
      sharedCopyBytes,
      instances,
    });
  }
  const serverBytes = server.pssBytes ?? server.rssBytes ?? 0;
  return {
    server,
    models: out,
    totalBytes: serverBytes + processes,
    serverRestBytes: serverBytes - threadEstimates,
    how:
      'measured: /proc/PID/smaps_rollup Pss (VmRSS of /proc/PID/status where there is no Pss), read now; ' +
      "estimated: instances in worker threads share the server process, so they get the engine's estimate " +
      "(admission.ts, fitted to npm run bench:memory; a stored profile's figure where there is one)",
  };
}

function instanceMemory(
  m: ModelView,
  i: InstanceView,
  serverPid: number,
  proc: string,
  profileBytes: MemoryFigureOptions['profileBytes'],
): InstanceMemory {
  const base = { instance: i.name, device: i.device, host: i.hostKind, weights: i.weights };
  if (i.hostKind === 'process' && i.pid !== undefined) {
    const p = processMemory(i.pid, proc);
    const bytes = p.pssBytes ?? p.rssBytes;
    if (bytes !== null)
      return {
        ...base,
        pid: i.pid,
        source: 'measured',
        basis: p.pssBytes !== null ? 'pss' : 'rss',
        bytes,
        rssBytes: p.rssBytes,
        pssBytes: p.pssBytes,
        how: p.pssBytes !== null ? `Pss of /proc/${i.pid}/smaps_rollup` : `VmRSS of /proc/${i.pid}/status`,
      };
  }
  const pid = i.hostKind === 'thread' ? serverPid : (i.pid ?? null);
  const profiled = profileBytes?.(m.name, i.device);
  if (profiled)
    return {
      ...base,
      pid,
      source: 'estimated',
      basis: 'profile',
      bytes: profiled,
      rssBytes: null,
      pssBytes: null,
      how: `the stored profile's memory per instance on ${i.device} (${MB(profiled)})`,
    };
  const bytes = estimateInstanceBytes(m.file, i.weights);
  const where = i.device.startsWith('sim:')
    ? `on a simulated device, what placement fits against its memory`
    : i.hostKind === 'process'
      ? 'its process has not started yet'
      : `a worker thread of the server process (pid ${serverPid})`;
  const weights =
    i.weights === 'shared' ? 'reading the shared copy of the weights' : 'with its own copy of the weights';
  return {
    ...base,
    pid,
    source: 'estimated',
    basis: 'admission',
    bytes,
    rssBytes: null,
    pssBytes: null,
    how: `${where}: the admission's estimate from the model file's size, ${weights} (${MB(bytes)})`,
  };
}
