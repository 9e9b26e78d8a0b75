/**
 * The decisions of the experiments, as pure functions tested by tables: when a concurrency sweep
 * stops, how much memory one more instance takes, how many instances memory allows, which batch
 * sizes to try, how much load keeps every instance busy.
 */
import { errors } from '../errors.js';
import { linearFit } from './latency-summary.js';

/** One measured step of a sweep. */
export interface SweepPoint {
  /** Concurrency level: instances of the model (for a mix: instances of each model). */
  level: number;
  /** Inferences per second. */
  throughput: number;
}

export interface SweepRule {
  /** Relative gain that counts as an improvement, e.g. 0.05. */
  minGain: number;
  /** Steps in a row without that gain after which the sweep stops, e.g. 3. */
  patience: number;
  /** Highest level to try at all. */
  maxLevel: number;
  /** Memory the serving side may use, bytes; Infinity for no limit. */
  memoryBudgetBytes: number;
}

export const DEFAULT_SWEEP_RULE: SweepRule = { minGain: 0.05, patience: 3, maxLevel: 16, memoryBudgetBytes: Infinity };

/** Memory as a line in the concurrency level: base + perInstance x level, bytes. */
export interface MemoryModel {
  baseBytes: number;
  perInstanceBytes: number;
  /** How it was estimated, for the report. */
  method: 'fit' | 'one level';
}

export type SweepDecision = { next: number } | { stop: string };

/**
 * Model Analyzer's rule: stop when the best of the last `patience` steps is not `minGain` better
 * than the best before them (gains add up across those steps, so a slow steady rise goes on).
 * Also stop at maxLevel, or when the next level would not fit the memory budget.
 */
export function nextSweepStep(
  points: readonly SweepPoint[],
  memory: MemoryModel | null,
  rule: SweepRule,
): SweepDecision {
  if (points.length === 0) return { next: 1 };
  const last = points[points.length - 1].level;
  if (points.length > rule.patience) {
    const before = Math.max(...points.slice(0, -rule.patience).map((p) => p.throughput));
    const recent = Math.max(...points.slice(-rule.patience).map((p) => p.throughput));
    if (!(recent >= before * (1 + rule.minGain)))
      return {
        stop:
          `throughput did not improve by ${pct(rule.minGain)} over the last ${rule.patience} steps ` +
          `(best ${before.toFixed(1)} before them, ${recent.toFixed(1)} in them)`,
      };
  }
  if (last >= rule.maxLevel) return { stop: `reached the highest level to try (${rule.maxLevel})` };
  const next = last + 1;
  if (memory && Number.isFinite(rule.memoryBudgetBytes)) {
    const need = predictedBytes(memory, next);
    if (need > rule.memoryBudgetBytes)
      return {
        stop:
          `level ${next} would need about ${mb(need)} MB, ` +
          `over the memory budget of ${mb(rule.memoryBudgetBytes)} MB`,
      };
  }
  return { next };
}

export function predictedBytes(memory: MemoryModel, level: number): number {
  return memory.baseBytes + memory.perInstanceBytes * level;
}

/**
 * Estimates memory per instance from the memory measured with each level loaded. With two levels
 * or more: the least-squares slope (robust to one noisy reading). With one: its growth over the
 * memory measured with the model unloaded (`idleBytes`). A fitted slope that is not positive (noise,
 * or memory not handed back to the system) falls back to the one-level estimate of the last point;
 * null when even that shows no growth (unknown, not free).
 */
export function estimateMemory(
  points: readonly { level: number; bytes: number }[],
  idleBytes: number,
): MemoryModel | null {
  if (points.length === 0) return null;
  const fit = linearFit(points.map((p) => ({ x: p.level, y: p.bytes })));
  if (fit && fit.slope > 0) return { baseBytes: fit.intercept, perInstanceBytes: fit.slope, method: 'fit' };
  const p = points[points.length - 1];
  const per = (p.bytes - idleBytes) / p.level;
  // No growth at all: the process's memory is a high-water mark (the allocator keeps what earlier,
  // larger settings freed), so this model's instances fit in it and their size cannot be seen.
  return per > 0 ? { baseBytes: idleBytes, perInstanceBytes: per, method: 'one level' } : null;
}

/** The maximum concurrency level the memory budget allows (Infinity when unbounded or free). */
export function maxLevelForMemory(memory: MemoryModel | null, budgetBytes: number): number {
  if (!memory || !Number.isFinite(budgetBytes) || memory.perInstanceBytes <= 0) return Infinity;
  return Math.max(0, Math.floor((budgetBytes - memory.baseBytes) / memory.perInstanceBytes));
}

/** The level with the highest throughput (the lowest such level on a tie). */
export function bestPoint<T extends SweepPoint>(points: readonly T[]): T | null {
  let best: T | null = null;
  for (const p of points) if (!best || p.throughput > best.throughput) best = p;
  return best;
}

/**
 * Requests kept outstanding so that `instances` instances never wait for work: each has one
 * running and `perInstance - 1` queued behind it, as the papers' clients kept every model busy.
 */
export function outstandingFor(instances: number, perInstance = 2): number {
  if (!Number.isInteger(instances) || instances < 1)
    throw errors.invalidArg(`instances must be an integer >= 1, got ${instances}`);
  if (!Number.isInteger(perInstance) || perInstance < 1)
    throw errors.invalidArg(`requests per instance must be an integer >= 1, got ${perInstance}`);
  return instances * perInstance;
}

export const DEFAULT_BATCH_SIZES = [1, 2, 4, 8, 16, 32];

/** The batch sizes a model can take: those within max_batch_size (only 1 when it does not batch). */
export function batchSizesFor(maxBatchSize: number, wanted: readonly number[] = DEFAULT_BATCH_SIZES): number[] {
  for (const b of wanted)
    if (!Number.isInteger(b) || b < 1) throw errors.invalidArg(`batch sizes must be integers >= 1, got ${b}`);
  if (maxBatchSize === 0) return [1];
  return [...new Set(wanted)].filter((b) => b <= maxBatchSize).sort((a, b) => a - b);
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const mb = (b: number) => (b / 2 ** 20).toFixed(0);
