/**
 * The planner (pure): from profiles, device capacities and demand to a placement: instances of
 * each model on each device, threads per instance and batching, maximizing weighted throughput.
 *
 * Model of the device: a configuration measured alone with k cores delivers its profiled
 * throughput when it gets those k cores; so on a CPU device the chosen configurations' cores
 * (instances x threads) must add up to at most the device's cores, their memory to at most its
 * budget, and on an accelerator the instances to at most its maximum. A model may be spread over
 * several devices; its value is weight x min(sum of throughputs, target rate). Every demanded
 * model gets at least one instance, or the plan says why it cannot.
 *
 * Exact search (depth-first over each model x device choice, pruned by capacity and by an upper
 * bound) when the choice space is small; otherwise a greedy local search: start from each
 * model's cheapest feasible configuration, then apply the move with the best gain per core
 * used until none improves. Tests compare the two.
 */
import { errors } from '../errors.js';
import type { DeviceCapacity, Demand, ModelProfile, Plan, PlacementEntry, ProfilePoint } from './types.js';

/** Above this many combinations the planner uses the greedy search. */
export const EXACT_LIMIT = 200_000;

interface Slot {
  model: string;
  device: DeviceCapacity;
  /** Admissible configurations, cheapest first; index -1 = not on this device. */
  points: ProfilePoint[];
}

type Choice = number[]; // per slot: index into points, or -1

export function plan(
  profiles: ModelProfile[],
  devices: DeviceCapacity[],
  demand: Demand[],
  options: { method?: 'exact' | 'greedy' | 'auto' } = {},
): Plan {
  const slots = buildSlots(profiles, devices, demand);
  const reasons: string[] = [];
  for (const d of demand) {
    if (!slots.some((s) => s.model === d.model)) {
      throw errors.invalidArg(
        `model "${d.model}" cannot be placed: no profile on any device meets its limits` +
          `${d.p99LimitMs ? ` (p99 <= ${d.p99LimitMs} ms)` : ''}`,
      );
    }
  }
  const space = slots.reduce((n, s) => n * (s.points.length + 1), 1);
  const method =
    options.method === 'exact' || options.method === 'greedy'
      ? options.method
      : space <= EXACT_LIMIT
        ? 'exact'
        : 'greedy';
  const choice = method === 'exact' ? exact(slots, devices, demand) : greedy(slots, devices, demand);
  if (!choice) throw errors.invalidArg(`no placement fits: ${whyInfeasible(slots, devices, demand)}`);
  reasons.push(`${method} search over ${slots.length} model x device choices (${space} combinations)`);
  const entries = toEntries(slots, choice);
  for (const e of entries) {
    const slot = slots.find((s) => s.model === e.model && s.device.device === e.device)!;
    const p = slot.points[choice[slots.indexOf(slot)]];
    reasons.push(
      `${e.model} on ${e.device}${slot.device.simulated ? ' (simulated)' : ''}: ` +
        `${e.instances} x ${e.threads} thread${e.threads > 1 ? 's' : ''}` +
        `${p.batching ? `, batches up to ${p.batching.maxBatchSize} (delay ${p.batching.delayUs} us)` : ''} ` +
        `-> ${p.throughput.toFixed(1)} inf/s, p99 ${p.p99Ms.toFixed(1)} ms, ` +
        `${((p.memoryPerInstance * p.instances) / 2 ** 20).toFixed(0)} MB`,
    );
  }
  for (const d of devices) {
    const used = usage(slots, choice, d.device);
    reasons.push(
      `${d.device}: ${used.cores}/${d.cores} cores, ` +
        `${(used.memory / 2 ** 20).toFixed(0)}/${(d.memoryBytes / 2 ** 20).toFixed(0)} MB, ` +
        `${used.instances} instances${Number.isFinite(d.maxInstances) ? `/${d.maxInstances}` : ''}`,
    );
  }
  return { entries, objective: value(slots, choice, demand), method, reasons };
}

function buildSlots(profiles: ModelProfile[], devices: DeviceCapacity[], demand: Demand[]): Slot[] {
  const slots: Slot[] = [];
  for (const d of demand) {
    for (const device of devices) {
      const profile = profiles.find((p) => p.model === d.model && p.device === device.device);
      if (!profile) continue;
      const points = profile.points
        .filter((p) => d.p99LimitMs === undefined || p.p99Ms <= d.p99LimitMs)
        .filter((p) => fitsAlone(p, device))
        .sort((a, b) => cost(a) - cost(b) || a.throughput - b.throughput);
      if (points.length) slots.push({ model: d.model, device, points });
    }
  }
  return slots;
}

const cost = (p: ProfilePoint) => p.instances * p.threads;
const fitsAlone = (p: ProfilePoint, d: DeviceCapacity) =>
  p.instances * p.threads <= (d.cores || Infinity) &&
  p.instances * p.memoryPerInstance <= d.memoryBytes &&
  p.instances <= d.maxInstances;

function usage(slots: Slot[], choice: Choice, device: string) {
  let cores = 0,
    memory = 0,
    instances = 0;
  slots.forEach((s, i) => {
    if (s.device.device !== device || choice[i] < 0) return;
    const p = s.points[choice[i]];
    cores += s.device.cores ? p.instances * p.threads : 0;
    memory += p.instances * p.memoryPerInstance;
    instances += p.instances;
  });
  return { cores, memory, instances };
}

function fits(slots: Slot[], choice: Choice, devices: DeviceCapacity[]): boolean {
  return devices.every((d) => {
    const u = usage(slots, choice, d.device);
    return u.cores <= d.cores && u.memory <= d.memoryBytes && u.instances <= d.maxInstances;
  });
}

function value(slots: Slot[], choice: Choice, demand: Demand[]): number {
  let total = 0;
  for (const d of demand) {
    let rate = 0;
    slots.forEach((s, i) => {
      if (s.model === d.model && choice[i] >= 0) rate += s.points[choice[i]].throughput;
    });
    total += (d.weight ?? 1) * Math.min(rate, d.targetRate ?? Infinity);
  }
  return total;
}

const everyModelPlaced = (slots: Slot[], choice: Choice, demand: Demand[]) =>
  demand.every((d) => slots.some((s, i) => s.model === d.model && choice[i] >= 0));

function exact(slots: Slot[], devices: DeviceCapacity[], demand: Demand[]): Choice | null {
  let best: Choice | null = null;
  let bestValue = -1;
  const choice: Choice = slots.map(() => -1);
  // Upper bound of what slots from i on can still add: each at its best point, ignoring sharing.
  const tailBound = slots.map((_, i) =>
    slots.slice(i).reduce((n, s) => n + weightOf(s.model, demand) * Math.max(...s.points.map((p) => p.throughput)), 0),
  );
  const visit = (i: number): void => {
    if (i === slots.length) {
      if (!everyModelPlaced(slots, choice, demand)) return;
      const v = value(slots, choice, demand);
      if (v > bestValue) [best, bestValue] = [[...choice], v];
      return;
    }
    if (value(slots, choice, demand) + tailBound[i] <= bestValue) return;
    for (let k = slots[i].points.length - 1; k >= -1; k--) {
      choice[i] = k;
      if (k === -1 || fits(slots, choice, devices)) visit(i + 1);
    }
    choice[i] = -1;
  };
  visit(0);
  return best;
}

const weightOf = (model: string, demand: Demand[]) => demand.find((d) => d.model === model)?.weight ?? 1;

function greedy(slots: Slot[], devices: DeviceCapacity[], demand: Demand[]): Choice | null {
  const choice: Choice = slots.map(() => -1);
  // Each model first gets its cheapest configuration on some device: a small search for a feasible
  // start (most productive device first), since placing one model can crowd out the next.
  const order = demand.map((d) =>
    slots
      .map((s, i) => ({ s, i }))
      .filter(({ s }) => s.model === d.model)
      .sort((a, b) => b.s.points[0].throughput - a.s.points[0].throughput),
  );
  const start = (m: number): boolean => {
    if (m === order.length) return true;
    for (const { i } of order[m]) {
      choice[i] = 0;
      if (fits(slots, choice, devices) && start(m + 1)) return true;
      choice[i] = -1;
    }
    return false;
  };
  if (!start(0)) return null;
  // Then the move with the best gain per extra core (or per instance on an accelerator) while one improves.
  for (;;) {
    const base = value(slots, choice, demand);
    let bestMove: { i: number; k: number; score: number } | null = null;
    slots.forEach((s, i) => {
      for (let k = -1; k < s.points.length; k++) {
        if (k === choice[i]) continue;
        const old = choice[i];
        choice[i] = k;
        if (fits(slots, choice, devices) && everyModelPlaced(slots, choice, demand)) {
          const gain = value(slots, choice, demand) - base;
          const extra = (k < 0 ? 0 : cost(s.points[k])) - (old < 0 ? 0 : cost(s.points[old]));
          const score = gain / Math.max(extra, 0.5);
          if (gain > 1e-9 && (!bestMove || score > bestMove.score)) bestMove = { i, k, score };
        }
        choice[i] = old;
      }
    });
    if (!bestMove) return choice;
    const move: { i: number; k: number } = bestMove;
    choice[move.i] = move.k;
  }
}

function toEntries(slots: Slot[], choice: Choice): PlacementEntry[] {
  return slots.flatMap((s, i) => {
    if (choice[i] < 0) return [];
    const p = s.points[choice[i]];
    return [
      {
        model: s.model,
        device: s.device.device,
        instances: p.instances,
        threads: p.threads,
        batching: p.batching,
        expectedThroughput: p.throughput,
      },
    ];
  });
}

function whyInfeasible(slots: Slot[], devices: DeviceCapacity[], demand: Demand[]): string {
  const need = demand.map((d) => {
    const cheapest = slots
      .filter((s) => s.model === d.model)
      .map((s) => {
        const p = s.points[0];
        const need = s.device.cores ? `${cost(p)} cores` : `${p.instances} instance${p.instances > 1 ? 's' : ''}`;
        return `${s.device.device}: ${need}, ${((p.memoryPerInstance * p.instances) / 2 ** 20).toFixed(0)} MB`;
      });
    return `${d.model} needs at least one of [${cheapest.join('; ')}]`;
  });
  const have = devices.map((d) => `${d.device} has ${d.cores} cores, ${(d.memoryBytes / 2 ** 20).toFixed(0)} MB`);
  return `${need.join('; ')}; ${have.join('; ')}`;
}
