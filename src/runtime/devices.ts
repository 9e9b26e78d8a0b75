/**
 * The device inventory: the CPU with its cores (optionally split into named core sets, as on
 * big.LITTLE boards or a Jetson TX2's Denver and A57 clusters), a GPU when ONNX Runtime's WebGPU
 * provider finds an adapter (probed by loading a tiny model in a child process; otherwise absent
 * with the reason), and simulated accelerators declared in a devices file.
 */
import os from 'node:os';
import { readFile } from 'node:fs/promises';
import { errors } from '../errors.js';
import { ProcessHost } from './process-host.js';

export interface Device {
  /** "cpu", "cpu:NAME", "gpu:N" or "sim:NAME". */
  id: string;
  kind: 'cpu' | 'gpu' | 'sim';
  available: boolean;
  /** Why it is not available. */
  reason?: string;
  /** CPU core ids it may use (CPU devices). */
  cores?: number[];
  description: string;
  /** Memory budget for instances on it, bytes. */
  memoryBytes: number;
  simulated: boolean;
  /** Simulated devices: most executions at once, latency per model (batch 1, ms). */
  maxConcurrent?: number;
  latencyMs?: Record<string, number>;
}

/** The devices file: core sets and simulated accelerators. */
export interface DevicesFile {
  core_sets?: Record<string, number[]>;
  simulated?: Record<
    string,
    { latency_ms: Record<string, number>; memory_bytes: number; max_concurrent?: number; description?: string }
  >;
}

export async function readDevicesFile(file: string): Promise<DevicesFile> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw errors.invalidArg(`devices file ${file} cannot be read: ${(err as Error).message}`);
  }
  return validateDevicesFile(raw, file);
}

export function validateDevicesFile(raw: unknown, file = 'devices file'): DevicesFile {
  const bad = (field: string, value: unknown, expected: string) => errors.invalidConfig(file, field, value, expected);
  if (typeof raw !== 'object' || raw === null) throw bad('(root)', raw, 'must be an object');
  const r = raw as Record<string, unknown>;
  const cores = os.availableParallelism();
  for (const [name, set] of Object.entries((r.core_sets ?? {}) as Record<string, unknown>)) {
    if (!Array.isArray(set) || set.length === 0 || !set.every((c) => Number.isInteger(c) && c >= 0 && c < cores))
      throw bad(`core_sets.${name}`, set, `must be a non-empty list of core ids from 0 to ${cores - 1}`);
  }
  for (const [name, sim] of Object.entries((r.simulated ?? {}) as Record<string, Record<string, unknown>>)) {
    const lat = sim?.latency_ms as Record<string, unknown> | undefined;
    if (!lat || typeof lat !== 'object' || !Object.values(lat).every((v) => typeof v === 'number' && v > 0))
      throw bad(`simulated.${name}.latency_ms`, lat, 'must map model names to a latency in ms > 0');
    if (!(typeof sim.memory_bytes === 'number' && sim.memory_bytes > 0))
      throw bad(`simulated.${name}.memory_bytes`, sim.memory_bytes, 'must be a number of bytes > 0');
    if (
      sim.max_concurrent !== undefined &&
      !(Number.isInteger(sim.max_concurrent) && (sim.max_concurrent as number) > 0)
    )
      throw bad(`simulated.${name}.max_concurrent`, sim.max_concurrent, 'must be an integer > 0');
  }
  return r as DevicesFile;
}

export interface InventoryOptions {
  file?: DevicesFile;
  /** Probe the GPU (takes a second; loads a tiny model on the WebGPU provider). Default true. */
  probeGpu?: boolean;
  /** A small ONNX model to probe providers with. */
  probeModel?: string;
}

/** The whole CPU as one device. */
export function cpuDevice(): Device {
  const cpus = os.cpus();
  const all = cpus.map((_, i) => i);
  return {
    id: 'cpu',
    kind: 'cpu',
    available: true,
    cores: all,
    description: `${cpus[0]?.model ?? 'CPU'} (${all.length} cores)`,
    memoryBytes: os.totalmem(),
    simulated: false,
  };
}

export async function inventory(options: InventoryOptions = {}): Promise<Device[]> {
  const memory = os.totalmem();
  const devices: Device[] = [cpuDevice()];
  for (const [name, set] of Object.entries(options.file?.core_sets ?? {})) {
    devices.push({
      id: `cpu:${name}`,
      kind: 'cpu',
      available: true,
      cores: set,
      description: `core set ${name}: cores ${set.join(',')}`,
      memoryBytes: memory,
      simulated: false,
    });
  }
  if (options.probeGpu !== false && options.probeModel) devices.push(await probeGpu(options.probeModel));
  for (const [name, sim] of Object.entries(options.file?.simulated ?? {})) {
    devices.push({
      id: `sim:${name}`,
      kind: 'sim',
      available: true,
      simulated: true,
      memoryBytes: sim.memory_bytes,
      maxConcurrent: sim.max_concurrent ?? 1,
      latencyMs: sim.latency_ms,
      description: `SIMULATED: ${sim.description ?? name} (latency table, no CPU cost)`,
    });
  }
  return devices;
}

/** Loads a tiny model with the WebGPU provider in a child process, so a driver fault cannot take us down. */
export async function probeGpu(model: string): Promise<Device> {
  const base = {
    id: 'gpu:0',
    kind: 'gpu' as const,
    memoryBytes: 0,
    simulated: false,
    description: 'ONNX Runtime WebGPU provider',
  };
  // The probe's own warnings (Vulkan missing, say) belong in its reason, not on the console.
  const host = new ProcessHost({ captureStderr: true });
  try {
    await host.start({
      type: 'load',
      file: model,
      warmup: [],
      session: { intraOpThreads: 1, interOpThreads: 1, spinning: false, executionProviders: ['webgpu'] },
    });
    return { ...base, available: true };
  } catch (err) {
    const reason = (err as Error).message
      .replace(/^.*Failed to get a WebGPU adapter: /s, 'no WebGPU adapter: ')
      .split('\n')[0];
    const warning = /Warning: (.*)/.exec(host.stderrText)?.[1]?.trim();
    return { ...base, available: false, reason: warning ? `${reason} (${warning})` : reason };
  } finally {
    await host.close().catch(() => {});
  }
}
