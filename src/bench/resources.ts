/**
 * CPU and memory while a setting runs. CPU: this process from process.cpuUsage (all its threads,
 * so the engine's worker-thread instances are included) and the whole machine from os.cpus() tick
 * deltas, both as a percentage of all cores. Memory: the target's peak, sampled every 200 ms.
 */
import os from 'node:os';
import type { Target } from './target.js';

export interface CpuSnapshot {
  atMs: number;
  process: NodeJS.CpuUsage;
  idle: number;
  total: number;
}

export interface CpuUse {
  /** This process's CPU time over the wall time, as % of all cores (100 = every core busy). */
  processPct: number;
  /** The machine's busy time (all processes), as % of all cores. */
  systemPct: number;
}

export function cpuSnapshot(): CpuSnapshot {
  let idle = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { atMs: performance.now(), process: process.cpuUsage(), idle, total };
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const wallUs = (b.atMs - a.atMs) * 1000;
  const cores = os.cpus().length || 1;
  const procUs = b.process.user - a.process.user + (b.process.system - a.process.system);
  const total = b.total - a.total;
  return {
    processPct: wallUs > 0 ? (100 * procUs) / (wallUs * cores) : NaN,
    systemPct: total > 0 ? (100 * (total - (b.idle - a.idle))) / total : NaN,
  };
}

export interface MemoryPeak {
  /** Peak resident memory of the serving process, bytes. */
  peakRssBytes: number;
  /** Peak of the process plus instances outside it (process hosts), bytes. */
  peakTotalBytes: number;
}

const SAMPLE_MS = 200;

/** Samples the target's memory until stopped; null when the target cannot tell. */
export class MemorySampler {
  private peak: MemoryPeak | null = null;
  private timer: NodeJS.Timeout | null = null;
  private unsupported = false;

  constructor(private readonly target: Target) {}

  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  async sample(): Promise<void> {
    if (this.unsupported) return;
    const m = await this.target.memory().catch(() => null);
    if (!m) {
      this.unsupported = true;
      return;
    }
    const total = m.processRssBytes + m.outsideBytes;
    this.peak = {
      peakRssBytes: Math.max(this.peak?.peakRssBytes ?? 0, m.processRssBytes),
      peakTotalBytes: Math.max(this.peak?.peakTotalBytes ?? 0, total),
    };
  }

  async stop(): Promise<MemoryPeak | null> {
    if (this.timer) clearInterval(this.timer);
    await this.sample();
    return this.peak;
  }
}
