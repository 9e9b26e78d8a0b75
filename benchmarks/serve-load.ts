/**
 * What both halves of bench:serve measure: the shared closed loop (src/bench/closed-loop.ts), N
 * requests always outstanding for a number of seconds; throughput, latency percentiles, and the
 * CPU time and event-loop utilization of the process that ran the loop.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { runClosedLoop } from '../src/bench/closed-loop.js';
import type { TensorMap } from '../src/tensor.js';

export const MODEL = 'mobilenet_v2';
export const MODES = ['in-process', 'HTTP binary', 'HTTP JSON', 'gRPC', 'gRPC stream', 'HTTP shm', 'gRPC shm'] as const;
export type Mode = (typeof MODES)[number];

/** One measured setting. CPU figures are cores (CPU seconds per second of wall time). */
export interface Sample {
  count: number;
  errors: number;
  seconds: number;
  latencies: number[];
  /** CPU of the process that ran the loop (for in-process: the server, worker threads included). */
  cpuCores: number;
  /** Event-loop utilization of that process's main thread, 0..1. */
  elu: number;
  /** The first error message, when any. */
  error?: string;
}

/** The client process's request over IPC: run one closed loop; the answer is a Sample. */
export interface LoadRequest {
  mode: Mode;
  concurrency: number;
  seconds: number;
}

export type Infer = (inputs: TensorMap) => Promise<unknown>;

/** Runs one closed loop of `infer` and measures this process's CPU and event loop around it. */
export async function measureClosedLoop(
  infer: Infer,
  inputs: TensorMap,
  concurrency: number,
  seconds: number,
): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const r = await runClosedLoop(() => infer(inputs), { concurrency, durationMs: seconds * 1000 });
  const cpu = process.cpuUsage(cpu0);
  const error = r.failed > 0 ? (r.firstError as Error).message : undefined;
  return {
    count: r.ok,
    errors: r.failed,
    seconds: r.seconds,
    latencies: r.latencies,
    cpuCores: (cpu.user + cpu.system) / 1e6 / r.seconds,
    elu: performance.eventLoopUtilization(elu0).utilization,
    ...(error ? { error } : {}),
  };
}

/** The benchmark's input: a fixed pseudo-random image, the same in both processes. */
export function benchInputs(): TensorMap {
  const data = new Float32Array(3 * 224 * 224);
  let s = 1;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    data[i] = s / 2 ** 32 - 0.5;
  }
  return { input: { datatype: 'FP32', shape: [1, 3, 224, 224], data } };
}

/** Busy time of the whole machine (all processes), in core-seconds, from os.cpus(). */
export function machineBusySeconds(): number {
  let busy = 0;
  for (const c of os.cpus()) busy += (c.times.user + c.times.nice + c.times.sys + c.times.irq) / 1000;
  return busy;
}

/**
 * CPU seconds of this process's main thread (user + system), from /proc (Linux); null elsewhere.
 * The kernel counts in clock ticks of 10 ms, so a window of seconds reads it to about 1%.
 */
export function mainThreadCpuSeconds(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}
