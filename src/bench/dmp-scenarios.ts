/**
 * The placements the `dmp` experiment compares, as pure functions of the models, their
 * single-tenant throughput and the devices: all models on the CPU; split over core sets; the CPU
 * plus simulated accelerators; the CPU plus the GPU. Each is a list of (model, device, threads),
 * one instance per model, or a reason why the device it needs is absent.
 */
import os from 'node:os';
import type { Device } from '../runtime/index.js';

/** Where one model runs in a scenario (one instance). */
export interface Placed {
  model: string;
  device: string;
  /** Intra-op threads (1 on an accelerator). */
  threads: number;
  simulated: boolean;
}

export type Scenario =
  | { name: string; label: string; simulated: boolean; placed: Placed[] }
  | { name: string; label: string; simulated: boolean; absent: string };

/**
 * The published Coral EdgeTPU figure the experiment uses when no devices file names one (MobileNet
 * V2 at 224: about 2.6 ms).
 */
export function defaultEdgeTpu(): Device {
  return {
    id: 'sim:edgetpu',
    kind: 'sim',
    available: true,
    simulated: true,
    memoryBytes: 8 * 2 ** 20,
    maxConcurrent: 1,
    latencyMs: { mobilenet_v2: 2.6 },
    description:
      'SIMULATED: Coral EdgeTPU, latency from its published MobileNet V2 figure (latency table, no CPU cost)',
  };
}

/** The cores split in two halves, "cpu:a" and "cpu:b", for when the devices file names no core sets. */
export function halfCoreSets(cores = os.availableParallelism()): Device[] {
  const all = Array.from({ length: cores }, (_, i) => i);
  const half = Math.max(1, Math.floor(cores / 2));
  const sets: [string, number[]][] =
    cores < 2
      ? [['a', all]]
      : [
          ['a', all.slice(0, half)],
          ['b', all.slice(half)],
        ];
  return sets.map(([name, set]) => ({
    id: `cpu:${name}`,
    kind: 'cpu',
    available: true,
    cores: set,
    description: `core set ${name}: cores ${set.join(',')} (half of the CPU, made up by dmp)`,
    memoryBytes: os.totalmem(),
    simulated: false,
  }));
}

/** Threads each of `n` instances gets on `cores` cores (at least one: a session cannot run on less). */
const share = (cores: number, n: number) => Math.max(1, Math.floor(cores / Math.max(1, n)));

function onCpu(models: string[], cores: number): Placed[] {
  return models.map((model) => ({ model, device: 'cpu', threads: share(cores, models.length), simulated: false }));
}

/**
 * Models to core sets, heaviest first, each to the set with the least work per core so far
 * (longest-processing-time scheduling); a model's work is the time of one inference alone
 * (1 / its single-tenant throughput), since every model is kept busy at once.
 */
export function assignToCoreSets(models: string[], alone: Map<string, number>, sets: Device[]): Placed[] {
  const load = new Map(sets.map((s) => [s.id, 0]));
  const on = new Map<string, string[]>(sets.map((s) => [s.id, []]));
  const cost = (m: string) => 1 / (alone.get(m) || 1);
  for (const m of [...models].sort((a, b) => cost(b) - cost(a))) {
    const set = [...sets].sort(
      (a, b) => load.get(a.id)! / (a.cores?.length ?? 1) - load.get(b.id)! / (b.cores?.length ?? 1),
    )[0];
    load.set(set.id, load.get(set.id)! + cost(m));
    on.get(set.id)!.push(m);
  }
  return models.map((m) => {
    const set = sets.find((s) => on.get(s.id)!.includes(m))!;
    return {
      model: m,
      device: set.id,
      threads: share(set.cores?.length ?? 1, on.get(set.id)!.length),
      simulated: false,
    };
  });
}

/**
 * The models each simulated accelerator has a latency for go to it, as many as it runs at once
 * (those that are slowest on the CPU first); the others share the CPU.
 */
export function assignToAccelerators(
  models: string[],
  alone: Map<string, number>,
  sims: Device[],
  cores: number,
): Placed[] | string {
  const placed: Placed[] = [];
  for (const sim of sims) {
    const fits = models.filter((m) => sim.latencyMs?.[m] !== undefined && !placed.some((p) => p.model === m));
    fits.sort((a, b) => (alone.get(a) ?? 0) - (alone.get(b) ?? 0));
    for (const m of fits.slice(0, sim.maxConcurrent ?? 1))
      placed.push({ model: m, device: sim.id, threads: 1, simulated: true });
  }
  if (placed.length === 0) {
    return sims
      .map(
        (s) =>
          `${s.id} has no latency for any of the models ` +
          `(${models.join(', ')}; it has: ${Object.keys(s.latencyMs ?? {}).join(', ') || 'none'})`,
      )
      .join('; ');
  }
  const rest = models.filter((m) => !placed.some((p) => p.model === m));
  return [...placed, ...onCpu(rest, cores)];
}

/** Every scenario of the experiment, in the order of the report. */
export function dmpScenarios(
  models: string[],
  alone: Map<string, number>,
  devices: Device[],
  cores: number,
): Scenario[] {
  const scenarios: Scenario[] = [{ name: 'cpu', label: 'all on cpu', simulated: false, placed: onCpu(models, cores) }];
  const sets = devices.filter((d) => d.kind === 'cpu' && d.id !== 'cpu' && d.available);
  scenarios.push(
    sets.length >= 2
      ? {
          name: 'core-sets',
          label: `core sets ${sets.map((s) => s.id).join(' + ')}`,
          simulated: false,
          placed: assignToCoreSets(models, alone, sets),
        }
      : {
          name: 'core-sets',
          label: 'core sets',
          simulated: false,
          absent: `needs at least 2 core sets, found ${sets.map((s) => s.id).join(', ') || 'none'}`,
        },
  );
  const sims = devices.filter((d) => d.kind === 'sim' && d.available);
  const simLabel = `cpu + ${sims.map((s) => s.id).join(' + ') || 'accelerator'} (simulated)`;
  const onSims = sims.length
    ? assignToAccelerators(models, alone, sims, cores)
    : 'no simulated accelerator in the devices';
  scenarios.push(
    typeof onSims === 'string'
      ? { name: 'cpu+sim', label: simLabel, simulated: true, absent: onSims }
      : { name: 'cpu+sim', label: simLabel, simulated: true, placed: onSims },
  );
  const gpu = devices.find((d) => d.kind === 'gpu');
  if (gpu?.available) {
    // The heaviest model (slowest alone) gains most from a processor of its own.
    const heaviest = [...models].sort((a, b) => (alone.get(a) ?? 0) - (alone.get(b) ?? 0))[0];
    const rest = models.filter((m) => m !== heaviest);
    scenarios.push({
      name: 'cpu+gpu',
      label: `cpu + ${gpu.id}`,
      simulated: false,
      placed: [{ model: heaviest, device: gpu.id, threads: 1, simulated: false }, ...onCpu(rest, cores)],
    });
  } else {
    scenarios.push({
      name: 'cpu+gpu',
      label: 'cpu + gpu:0',
      simulated: false,
      absent: `no GPU: ${gpu?.reason ?? 'gpu:0 was not probed'}`,
    });
  }
  return scenarios;
}
