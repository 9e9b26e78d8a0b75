/**
 * The profiler: how each model behaves on each device, as the planner needs it: throughput and
 * p99 latency per configuration (instances x intra-op threads x dynamic batching), and memory per
 * instance. Real devices are measured; simulated ones are computed from their latency table.
 *
 * It never imports the engine or the bench: the caller hands it a ProfileBench (the bench's
 * engine target does the loading and measuring, src/bench/profile-bench.ts), so this file holds
 * only the decisions: which configurations, which config override each one is, what a simulated
 * device would do, and when a stored profile is still valid.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import os from 'node:os';
import { errors } from '../errors.js';
import type { Device } from '../runtime/index.js';
import type { ModelProfile, ProfilePoint } from './types.js';
import { deviceKey, type DeviceIdentity, type ProfileStore } from './profile-store.js';

/** What the profiler needs to know of a device: the runtime's inventory entry. */
export type DeviceInfo = Device;

/** One configuration to measure. */
export interface ProfileConfig {
  instances: number;
  threads: number;
  batching: ProfilePoint['batching'];
}

export interface PointMeasurement {
  throughput: number;
  p99Ms: number;
  memoryPerInstance: number;
  errors: number;
  firstError: string | null;
}

/** The narrow interface the profiler measures through. */
export interface ProfileBench {
  /** The model's own (completed) config, Triton's field names: the base of every override. */
  config(model: string): Promise<Record<string, unknown>>;
  modelFile(model: string): Promise<string | null>;
  /** e.g. "onnxruntime-node 1.30.0": part of every device identity. */
  runtime(): string;
  /** Loads the model with `config`, keeps `outstanding` requests in flight, measures, unloads. */
  measure(
    model: string,
    config: Record<string, unknown>,
    setting: { instances: number; outstanding: number },
  ): Promise<PointMeasurement>;
}

export interface ProfilerOptions {
  /** Dynamic batching sizes to try besides none (each within max_batch_size); default [4]. */
  batchSizes?: number[];
  /** Queue delay of the batching configurations, µs; default 0 (batch what waits). */
  batchDelayUs?: number;
  /** Most instances per device (GPU: default 2; CPU: its cores). */
  maxInstances?: number;
  /** Re-measure even when a valid stored profile exists. */
  force?: boolean;
  store?: ProfileStore;
  /** Recorded with stored profiles (window lengths and such). */
  settings?: Record<string, unknown>;
  onProgress?: (line: string) => void;
}

/** A profile with where it came from. */
export interface ProfiledModel extends ModelProfile {
  source: 'measured' | 'stored' | 'simulated';
  simulated: boolean;
  measuredAt: string | null;
}

/** Threads to try for n instances on c cores: powers of two and the even share, so big CPUs stay few. */
function threadChoices(cores: number, n: number): number[] {
  const most = Math.floor(cores / n);
  const out = new Set<number>();
  for (let t = 1; t <= most; t *= 2) out.add(t);
  if (most >= 1) out.add(most);
  return [...out].sort((a, b) => a - b);
}

/**
 * The configurations of a model on a real device. CPU: every instances x threads that fits its
 * cores (the planner's model: a configuration measured alone with k cores needs k cores).
 */
export function profileConfigs(
  device: DeviceInfo,
  maxBatchSize: number,
  options: ProfilerOptions = {},
): ProfileConfig[] {
  const sizes = (options.batchSizes ?? [4]).filter((b) => b > 1 && b <= maxBatchSize);
  for (const b of options.batchSizes ?? [])
    if (!Number.isInteger(b) || b < 1) throw errors.invalidArg(`batch sizes must be integers >= 1, got ${b}`);
  const batchings: ProfilePoint['batching'][] = [
    null,
    ...sizes.map((b) => ({ maxBatchSize: b, delayUs: options.batchDelayUs ?? 0 })),
  ];
  const shapes: { instances: number; threads: number }[] = [];
  if (device.kind === 'cpu') {
    const cores = device.cores?.length ?? os.availableParallelism();
    for (let n = 1; n <= Math.min(cores, options.maxInstances ?? cores); n++)
      for (const t of threadChoices(cores, n)) shapes.push({ instances: n, threads: t });
  } else if (device.kind === 'gpu') {
    for (let n = 1; n <= (options.maxInstances ?? 2); n++) shapes.push({ instances: n, threads: 1 });
  } else {
    throw errors.invalidArg(
      `device ${device.id} is simulated: its profile is computed from its latency table, not measured`,
    );
  }
  return shapes.flatMap((s) => batchings.map((batching) => ({ ...s, batching })));
}

/** The model's config with the configuration applied: one instance group on the device, threads, batching. */
export function configFor(
  base: Record<string, unknown>,
  device: DeviceInfo,
  c: ProfileConfig,
): Record<string, unknown> {
  const config = structuredClone(base);
  const groups = Array.isArray(config.instance_group) ? (config.instance_group as Record<string, unknown>[]) : [];
  const host = groups[0]?.host ?? 'thread';
  config.instance_group = [
    {
      count: c.instances,
      kind: device.kind === 'gpu' ? 'KIND_GPU' : 'KIND_CPU',
      device: device.id,
      host,
      threads: c.threads,
    },
  ];
  // Threads go on the group; a model-wide intra_op_thread_count would override the configuration.
  const parameters = { ...((config.parameters as Record<string, unknown> | undefined) ?? {}) };
  delete parameters.intra_op_thread_count;
  config.parameters = parameters;
  // Batches up to the size and no larger: a preferred size cuts what waits to it, and max_batch_size
  // stays as it is, so clients may still send their own batches.
  if (c.batching)
    config.dynamic_batching = {
      preferred_batch_size: [c.batching.maxBatchSize],
      max_queue_delay_microseconds: c.batching.delayUs,
    };
  else delete config.dynamic_batching;
  return config;
}

/**
 * Requests kept in flight: with batching of b, every instance has a batch running and a full one
 * waiting (2b); without, one running and one waiting, as the bench's closed loops do.
 */
export const profileOutstanding = (c: ProfileConfig): number => c.instances * 2 * (c.batching?.maxBatchSize ?? 1);

/**
 * A simulated accelerator's profile from its latency table: instances up to its max_concurrent,
 * throughput = instances x 1000 / latency (its executions take latency x batch, so batching adds
 * nothing and is not listed); p99 = 2 x latency, as the measured profiles' closed loop sees it
 * (one running, one waiting). Memory per instance: the model file / 4, as such accelerators (the
 * EdgeTPU) run 8-bit quantized weights. Null when the table has no latency for the model.
 */
export function simulatedProfile(model: string, device: DeviceInfo, fileBytes: number): ModelProfile | null {
  const latency = device.latencyMs?.[model];
  if (latency === undefined) return null;
  const points: ProfilePoint[] = [];
  for (let n = 1; n <= (device.maxConcurrent ?? 1); n++) {
    points.push({
      instances: n,
      threads: 1,
      batching: null,
      throughput: (n * 1000) / latency,
      p99Ms: 2 * latency,
      memoryPerInstance: Math.ceil(fileBytes / 4),
    });
  }
  return { model, device: device.id, points };
}

/** What the device is, for the store's key: changes to any of it invalidate stored profiles. */
export function deviceIdentity(device: DeviceInfo, runtime: string): DeviceIdentity {
  const hardware =
    device.kind === 'cpu' ? `${os.cpus()[0]?.model?.trim() ?? 'CPU'} x${os.cpus().length}` : device.description;
  return { device: device.id, hardware, cores: device.cores ?? [], runtime };
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Measures every configuration of one model on one real device. */
export async function measureProfile(
  bench: ProfileBench,
  model: string,
  device: DeviceInfo,
  options: ProfilerOptions = {},
): Promise<ModelProfile> {
  const base = await bench.config(model);
  const configs = profileConfigs(device, Number(base.max_batch_size ?? 0), options);
  const points: ProfilePoint[] = [];
  let firstFailure = '';
  for (const c of configs) {
    const what =
      `${model} on ${device.id}: ${c.instances} x ${c.threads} thread${c.threads > 1 ? 's' : ''}` +
      `${c.batching ? `, batch ${c.batching.maxBatchSize}` : ''}`;
    const m = await bench.measure(model, configFor(base, device, c), {
      instances: c.instances,
      outstanding: profileOutstanding(c),
    });
    if (!(m.throughput > 0)) {
      // A configuration that cannot run (e.g. out of memory) is left out, not stored as zero.
      firstFailure ||= m.firstError ?? 'no completions';
      options.onProgress?.(`${what}: no successful request (${m.firstError ?? 'no completions'}), left out`);
      continue;
    }
    options.onProgress?.(
      `${what}: ${m.throughput.toFixed(1)} inf/s, p99 ${m.p99Ms.toFixed(1)} ms, ` +
        `${(m.memoryPerInstance / 2 ** 20).toFixed(0)} MB/instance`,
    );
    points.push({ ...c, throughput: m.throughput, p99Ms: m.p99Ms, memoryPerInstance: m.memoryPerInstance });
  }
  if (points.length === 0)
    throw errors.internal(
      `model "${model}" could not be measured on ${device.id}: ` +
        `every configuration failed, the first with: ${firstFailure}`,
    );
  return { model, device: device.id, points };
}

/**
 * Profiles of the models on the devices: stored ones reused while the model file and device are
 * the same, the rest measured (and stored), simulated devices computed. Unavailable devices and
 * simulated ones without a latency for a model are skipped (said through onProgress).
 */
export async function profileModels(
  bench: ProfileBench,
  devices: DeviceInfo[],
  models: string[],
  options: ProfilerOptions = {},
): Promise<ProfiledModel[]> {
  const out: ProfiledModel[] = [];
  const say = options.onProgress ?? (() => {});
  for (const model of models) {
    const file = await bench.modelFile(model);
    if (!file) throw errors.invalidArg(`model "${model}" has no model file to profile`);
    const sha = await sha256File(file);
    for (const device of devices) {
      if (!device.available) {
        say(`${device.id}: not available (${device.reason ?? 'no reason given'}), skipped`);
        continue;
      }
      if (device.kind === 'sim') {
        const p = simulatedProfile(model, device, statSync(file).size);
        if (p) out.push({ ...p, source: 'simulated', simulated: true, measuredAt: null });
        else say(`${model} on ${device.id} (simulated): no latency for it in the table, skipped`);
        continue;
      }
      const identity = deviceIdentity(device, bench.runtime());
      const stored = options.force ? null : options.store?.get(sha, identity, model);
      // Measured at other input shapes (a model with dynamic dims), a profile is not this one's.
      const sameShapes =
        JSON.stringify(stored?.settings.shapes ?? null) === JSON.stringify(options.settings?.shapes ?? null);
      if (stored?.profile.points.length && !sameShapes)
        say(`${model} on ${device.id}: the stored profile was measured at other input shapes; measuring again`);
      if (stored?.profile.points.length && sameShapes) {
        say(
          `${model} on ${device.id}: stored profile of ${stored.measuredAt} ` +
            `(device key ${deviceKey(identity).slice(0, 8)})`,
        );
        out.push({ ...stored.profile, source: 'stored', simulated: false, measuredAt: stored.measuredAt });
        continue;
      }
      const profile = await measureProfile(bench, model, device, options);
      const saved = options.store?.put(sha, identity, profile, options.settings ?? {});
      out.push({
        ...profile,
        source: 'measured',
        simulated: false,
        measuredAt: saved?.measuredAt ?? new Date().toISOString(),
      });
    }
  }
  return out;
}
