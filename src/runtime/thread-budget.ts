/**
 * The thread budget: ONNX Runtime gives every session one intra-op thread per core by default, so
 * several sessions oversubscribe the cores and lose 10-40% (DESIGN.md). The engine owns the budget
 * instead: the runtime threads of running instances add up to at most the cores, and each instance
 * gets at least one. Pure, so it is tested by tables.
 */
export interface ThreadRequest {
  /** Who asks, e.g. the model name. */
  key: string;
  instances: number;
  /** Threads per instance fixed by the model's config; the budget does not change them. */
  fixed?: number;
}

/**
 * Splits `cores` among instances: fixed requests take what they ask; the rest share what is left,
 * as evenly as possible, larger shares first in request order. When there are more instances than
 * cores each gets 1 thread: a session cannot run on less (the sum then exceeds the cores, by the
 * fewest threads possible).
 * Returns threads per instance for every key, as a list per instance (index-aligned).
 */
export function splitThreads(cores: number, requests: ThreadRequest[], alreadyUsed = 0): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let free = Math.max(0, cores - alreadyUsed);
  for (const r of requests) if (r.fixed) free -= r.fixed * r.instances;
  const flexible = requests.filter((r) => !r.fixed);
  const slots = flexible.reduce((n, r) => n + r.instances, 0);
  const base = slots > 0 ? Math.max(1, Math.floor(Math.max(0, free) / slots)) : 1;
  let extra = slots > 0 && base * slots < free ? free - base * slots : 0;
  for (const r of requests) {
    if (r.fixed) {
      out.set(r.key, Array(r.instances).fill(r.fixed));
      continue;
    }
    const list: number[] = [];
    for (let i = 0; i < r.instances; i++) {
      const t = base + (extra > 0 ? 1 : 0);
      if (extra > 0) extra--;
      list.push(t);
    }
    out.set(r.key, list);
  }
  return out;
}
