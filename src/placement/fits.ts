/**
 * Does a placement fit the devices? (pure) Cores: instances x threads on a CPU device; instances on
 * an accelerator with a maximum; memory: instances x memory per instance. Every problem is listed
 * with the figures that decide it, so a refused placement says why.
 */
import type { DeviceCapacity, PlacementEntry } from './types.js';

const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;

export function placementProblems(
  entries: PlacementEntry[],
  devices: DeviceCapacity[],
  memoryPerInstance: (model: string, device: string) => number,
): string[] {
  const problems: string[] = [];
  for (const d of devices) {
    const on = entries.filter((e) => e.device === d.device);
    if (on.length === 0) continue;
    const cores = on.reduce((n, e) => n + e.instances * e.threads, 0);
    if (d.cores > 0 && cores > d.cores) {
      const threadsUsed = on.map((e) => `${e.model} ${e.instances} x ${e.threads} thread${e.threads > 1 ? 's' : ''}`);
      problems.push(`${d.device}: ${threadsUsed.join(' + ')} = ${cores} threads, the device has ${d.cores} cores`);
    }
    const instances = on.reduce((n, e) => n + e.instances, 0);
    if (instances > d.maxInstances)
      problems.push(
        `${d.device}${d.simulated ? ' (simulated)' : ''}: ` +
          `${instances} instances, it runs at most ${d.maxInstances} at once`,
      );
    const parts = on.map((e) => ({ e, bytes: e.instances * memoryPerInstance(e.model, e.device) }));
    const memory = parts.reduce((n, p) => n + p.bytes, 0);
    if (memory > d.memoryBytes) {
      problems.push(
        `${d.device}${d.simulated ? ' (simulated)' : ''}: ` +
          `${parts.map((p) => `${p.e.model} ${p.e.instances} x ${mb(p.bytes / p.e.instances)}`).join(' + ')} ` +
          `= ${mb(memory)} does not fit its ${mb(d.memoryBytes)}`,
      );
    }
  }
  // The whole CPU and its core sets share the same cores: together they hold no more than the CPU.
  const cpus = devices.filter((d) => d.cores > 0);
  const allCores = Math.max(0, ...cpus.map((d) => d.cores));
  const used = entries
    .filter((e) => cpus.some((d) => d.device === e.device))
    .reduce((n, e) => n + e.instances * e.threads, 0);
  if (cpus.length > 1 && used > allCores)
    problems.push(`the CPU and its core sets together: ${used} threads, the CPU has ${allCores} cores`);
  for (const e of entries)
    if (!devices.some((d) => d.device === e.device)) problems.push(`${e.model}: unknown device "${e.device}"`);
  return problems;
}
