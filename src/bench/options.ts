/**
 * The benchmark's options with their defaults and units, checked once at the edge (the CLI or a
 * library caller); experiments trust them.
 */
import os from 'node:os';
import { errors } from '../errors.js';
import type { InputData } from './inputs.js';
import { DEFAULT_BATCH_SIZES, DEFAULT_SWEEP_RULE, type SweepRule } from './sweep-rules.js';
import { checkStabilityRule, DEFAULT_STABILITY, type StabilityRule } from './windows.js';

export interface BenchOptions {
  /** Measurement window, ms; default 5000 (perf_analyzer's). */
  windowMs: number;
  /** Load before the windows of each setting, not measured, ms; default 2000. */
  warmupMs: number;
  stability: StabilityRule;
  sweep: SweepRule;
  /** Requests kept outstanding per instance in closed loops; default 2 (one running, one waiting). */
  perInstance: number;
  inputData: InputData;
  /** Sizes of dynamic input dimensions, per input name, without the batch dimension. */
  shapes: Record<string, number[]>;
  /** Client batch sizes for the batch experiment; default 1, 2, 4, ..., 32. */
  batchSizes: number[];
  /** Measure the plain-session baseline between settings (plain-session.ts); default true. */
  plainBaseline: boolean;
  /**
   * Triton model-config parameters (name to string_value) set in every config the experiment
   * loads, over the model's own; what defines an experiment (the baseline's runtime defaults,
   * dmp's threads) still wins. The engine or server checks the values when it loads. Default none.
   */
  configParameters: Record<string, string>;
}

/**
 * Memory the serving side may use when none is given: what this machine (or its cgroup) has
 * available now, plus what this process already holds, less 10% so the sweep stops before the
 * kernel's out-of-memory killer would.
 */
export function defaultMemoryBudget(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  const limit = constrained > 0 && constrained < os.totalmem() ? constrained : os.totalmem();
  const available = Math.min(limit, os.freemem() + process.memoryUsage.rss());
  return Math.floor(available * 0.9);
}

export function defaultBenchOptions(overrides: Partial<BenchOptions> = {}): BenchOptions {
  const o: BenchOptions = {
    windowMs: 5000,
    warmupMs: 2000,
    stability: { ...DEFAULT_STABILITY },
    sweep: {
      ...DEFAULT_SWEEP_RULE,
      maxLevel: Math.max(8, 4 * os.availableParallelism()),
      memoryBudgetBytes: defaultMemoryBudget(),
    },
    perInstance: 2,
    inputData: { kind: 'random' },
    shapes: {},
    batchSizes: [...DEFAULT_BATCH_SIZES],
    plainBaseline: true,
    configParameters: {},
    ...overrides,
  };
  checkBenchOptions(o);
  return o;
}

export function checkBenchOptions(o: BenchOptions): void {
  if (!(o.windowMs >= 10)) throw errors.invalidArg(`window length must be >= 10 ms, got ${o.windowMs}`);
  if (!(o.warmupMs >= 0)) throw errors.invalidArg(`warm-up must be >= 0 ms, got ${o.warmupMs}`);
  checkStabilityRule(o.stability);
  if (!Number.isInteger(o.sweep.maxLevel) || o.sweep.maxLevel < 1)
    throw errors.invalidArg(`highest concurrency level must be an integer >= 1, got ${o.sweep.maxLevel}`);
  if (!(o.sweep.memoryBudgetBytes > 0))
    throw errors.invalidArg(`memory budget must be > 0 bytes, got ${o.sweep.memoryBudgetBytes}`);
  if (!(o.sweep.minGain >= 0)) throw errors.invalidArg(`minimum gain must be >= 0, got ${o.sweep.minGain}`);
  if (!Number.isInteger(o.sweep.patience) || o.sweep.patience < 1)
    throw errors.invalidArg(`patience must be an integer >= 1, got ${o.sweep.patience}`);
  if (!Number.isInteger(o.perInstance) || o.perInstance < 1)
    throw errors.invalidArg(`requests per instance must be an integer >= 1, got ${o.perInstance}`);
  for (const [name, value] of Object.entries(o.configParameters)) {
    if (name.trim() === '') throw errors.invalidArg(`a config parameter needs a name, got ${JSON.stringify(name)}`);
    if (typeof value !== 'string')
      throw errors.invalidArg(`config parameter ${name} must be a string, got ${JSON.stringify(value)}`);
  }
}
