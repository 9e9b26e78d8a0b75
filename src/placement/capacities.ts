/**
 * From the device inventory to the planner's capacities, and planning over devices that overlap.
 * The whole CPU ("cpu") and its core sets ("cpu:big", ...) share cores, so a plan may use either
 * the whole CPU or disjoint core sets, never both: the planner sees each device as independent.
 * planOnDevices plans every maximal choice of disjoint CPU devices (with every GPU and
 * accelerator) and keeps the best, saying what it compared. Core sets also share the memory, so
 * in a choice of several each gets the share of the budget that its cores are.
 */
import { errors } from '../errors.js';
import { plan } from './planner.js';
import type { DeviceInfo } from './profiler.js';
import type { Demand, DeviceCapacity, ModelProfile, Plan } from './types.js';

export interface CapacityOptions {
  /** Memory budget of CPU and GPU devices, bytes; default each device's own figure. */
  memoryBudgetBytes?: number;
}

/** Capacities of the available devices: CPU cores, accelerator concurrency, memory. */
export function capacitiesOf(devices: DeviceInfo[], options: CapacityOptions = {}): DeviceCapacity[] {
  if (options.memoryBudgetBytes !== undefined && !(options.memoryBudgetBytes > 0))
    throw errors.invalidArg(`memory budget must be > 0 bytes, got ${options.memoryBudgetBytes}`);
  return devices
    .filter((d) => d.available)
    .map((d): DeviceCapacity => {
      if (d.kind === 'sim')
        return {
          device: d.id,
          cores: 0,
          memoryBytes: d.memoryBytes,
          maxInstances: d.maxConcurrent ?? 1,
          simulated: true,
        };
      // A GPU reports no memory figure (WebGPU does not say): the budget, or unbounded.
      const memoryBytes = options.memoryBudgetBytes ?? (d.memoryBytes > 0 ? d.memoryBytes : Infinity);
      return {
        device: d.id,
        cores: d.kind === 'cpu' ? (d.cores?.length ?? 1) : 0,
        memoryBytes,
        maxInstances: Infinity,
        simulated: false,
      };
    });
}

/** Every maximal set of CPU devices whose cores do not overlap, largest first. */
export function disjointCpuChoices(devices: DeviceInfo[]): DeviceInfo[][] {
  const cpus = devices.filter((d) => d.available && d.kind === 'cpu');
  const overlap = (a: DeviceInfo, b: DeviceInfo) => (a.cores ?? []).some((c) => (b.cores ?? []).includes(c));
  const choices: DeviceInfo[][] = [];
  const visit = (i: number, picked: DeviceInfo[]): void => {
    if (i === cpus.length) {
      const maximal = cpus.every((d) => picked.includes(d) || picked.some((p) => overlap(p, d)));
      if (maximal && picked.length) choices.push(picked);
      return;
    }
    if (!picked.some((p) => overlap(p, cpus[i]))) visit(i + 1, [...picked, cpus[i]]);
    visit(i + 1, picked);
  };
  visit(0, []);
  return choices.length ? choices : [[]];
}

export interface PlanOnDevicesOptions extends CapacityOptions {
  method?: 'exact' | 'greedy' | 'auto';
}

/** Plans on each choice of disjoint CPU devices (plus every other device) and keeps the best. */
export function planOnDevices(
  profiles: ModelProfile[],
  devices: DeviceInfo[],
  demand: Demand[],
  options: PlanOnDevicesOptions = {},
): Plan {
  const others = devices.filter((d) => d.available && d.kind !== 'cpu');
  const tried: { names: string; plan: Plan | null; error: string | null }[] = [];
  for (const cpus of disjointCpuChoices(devices)) {
    const set = [...cpus, ...others];
    const names = set.map((d) => d.id + (d.simulated ? ' (simulated)' : '')).join(' + ');
    // Core sets share the machine's memory: each gets the part of the budget its cores are of the choice's.
    const allCores = cpus.reduce((n, d) => n + (d.cores?.length ?? 1), 0);
    const caps = capacitiesOf(set, options).map((c) => {
      const d = cpus.find((x) => x.id === c.device);
      return d && cpus.length > 1
        ? { ...c, memoryBytes: Math.floor((c.memoryBytes * (d.cores?.length ?? 1)) / allCores) }
        : c;
    });
    try {
      tried.push({ names, plan: plan(profiles, caps, demand, { method: options.method }), error: null });
    } catch (err) {
      tried.push({ names, plan: null, error: (err as Error).message });
    }
  }
  const ok = tried.filter((t) => t.plan).sort((a, b) => b.plan!.objective - a.plan!.objective);
  if (ok.length === 0) throw errors.invalidArg(tried.map((t) => `on ${t.names}: ${t.error}`).join('; '));
  const best = ok[0];
  const compared =
    tried.length > 1
      ? `devices: ${best.names}, chosen over ${tried
          .filter((t) => t !== best)
          .map((t) => `${t.names} (${t.plan ? `objective ${t.plan.objective.toFixed(1)}` : t.error})`)
          .join(', ')}`
      : `devices: ${best.names}`;
  return {
    ...best.plan!,
    reasons: [compared, `objective ${best.plan!.objective.toFixed(1)} (weighted inferences/s)`, ...best.plan!.reasons],
  };
}
