/**
 * Measures one setting: one or more streams (a model under a load) run together; after a warm-up,
 * back-to-back windows are taken until every stream is stable by the stability rule or the
 * windows run out. The result merges the last `rule.count` windows (the ones the rule judged):
 * throughput, latency percentiles, the server's queue/compute split, CPU use and peak memory.
 */
import { errors } from '../errors.js';
import type { ModelStatistics } from '../engine/index.js';
import { LoadGenerator, describeLoad, type Completion, type LoadSpec } from './load.js';
import type { InputSource } from './inputs.js';
import { cpuBetween, cpuSnapshot, MemorySampler, type CpuSnapshot, type CpuUse, type MemoryPeak } from './resources.js';
import { serverSplit, type ServerSplit } from './server-split.js';
import { summarizeLatencies, type LatencySummary } from './latency-summary.js';
import type { Target } from './target.js';
import {
  checkStabilityRule,
  DEFAULT_STABILITY,
  isStable,
  windowVerdict,
  type StabilityRule,
  type WindowFigures,
} from './windows.js';

export interface StreamSpec {
  model: string;
  load: LoadSpec;
  inputs: InputSource;
}

export interface MeasureOptions {
  /** Length of one measurement window, ms (perf_analyzer's default: 5000). */
  windowMs: number;
  /** Load before the first window, not measured, ms. */
  warmupMs: number;
  stability?: StabilityRule;
  /** Called after every window with each stream's figures, e.g. for a progress bar. */
  onWindow?: (index: number, figures: WindowFigures[]) => void;
}

export interface StreamResult {
  model: string;
  load: string;
  batchSize: number;
  /** Inferences per second (requests x batch size). */
  throughput: number;
  /** Completed requests per second. */
  requestRate: number;
  latencyMs: LatencySummary;
  errors: number;
  /** Open loop: requests sent more than 1 ms after their scheduled time. */
  delayed: number;
  firstError: string | null;
  server: ServerSplit | null;
  /** Every window's figures, in order. */
  windows: WindowFigures[];
  stable: boolean;
}

export interface Measurement {
  streams: StreamResult[];
  /** Sum of the streams' throughput, inferences/s. */
  throughput: number;
  stable: boolean;
  windows: number;
  /** Wall time of the merged windows, ms. */
  measuredMs: number;
  cpu: CpuUse;
  memory: MemoryPeak | null;
}

interface Cut {
  atMs: number;
  cpu: CpuSnapshot;
  stats: (ModelStatistics | null)[];
  completions: Completion[][]; // per stream, those that ended in the window before this cut
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measure(target: Target, streams: StreamSpec[], options: MeasureOptions): Promise<Measurement> {
  const rule = options.stability ?? DEFAULT_STABILITY;
  checkStabilityRule(rule);
  if (!(options.windowMs > 0)) throw errors.invalidArg(`window length must be > 0 ms, got ${options.windowMs}`);
  if (!(options.warmupMs >= 0)) throw errors.invalidArg(`warm-up must be >= 0 ms, got ${options.warmupMs}`);
  if (streams.length === 0) throw errors.invalidArg('a measurement needs at least one model to load');
  const gens = streams.map((s) => new LoadGenerator(target, s.model, s.load, s.inputs));
  const memory = new MemorySampler(target);
  const cut = async (): Promise<Cut> => ({
    atMs: performance.now(),
    cpu: cpuSnapshot(),
    completions: gens.map((g) => g.take()),
    stats: await Promise.all(streams.map((s) => target.statistics(s.model).catch(() => null))),
  });

  for (const g of gens) g.start();
  const cuts: Cut[] = [];
  try {
    await sleep(options.warmupMs);
    cuts.push(await cut());
    await memory.start();
    for (;;) {
      await sleep(options.windowMs);
      cuts.push(await cut());
      const figures = gens.map((g, i) => cuts.slice(1).map((c, w) => figuresOf(c, cuts[w], i, g.inputs.batchSize)));
      options.onWindow?.(
        cuts.length - 2,
        figures.map((f) => f[f.length - 1]),
      );
      const verdicts = figures.map((f) => windowVerdict(f, rule));
      if (verdicts.every((v) => v === 'stable') || verdicts.some((v) => v === 'unstable')) break;
    }
  } finally {
    await Promise.all(gens.map((g) => g.stop()));
  }
  const peak = await memory.stop();
  return summarize(gens, cuts, rule, peak);
}

function figuresOf(c: Cut, prev: Cut, stream: number, batch: number): WindowFigures {
  const ok = c.completions[stream].filter((x) => x.ok);
  const seconds = (c.atMs - prev.atMs) / 1000;
  const lat = ok.reduce((s, x) => s + x.latencyMs, 0) / ok.length;
  return { throughput: (ok.length * batch) / seconds, latencyAvgMs: ok.length ? lat : NaN };
}

function summarize(gens: LoadGenerator[], cuts: Cut[], rule: StabilityRule, memory: MemoryPeak | null): Measurement {
  const windows = cuts.length - 1;
  const from = Math.max(0, windows - rule.count); // index of the cut that opens the merged windows
  const first = cuts[from];
  const last = cuts[cuts.length - 1];
  const seconds = (last.atMs - first.atMs) / 1000;
  const results: StreamResult[] = gens.map((g, i) => {
    const merged = cuts.slice(from + 1).flatMap((c) => c.completions[i]);
    const ok = merged.filter((x) => x.ok);
    const figures = cuts.slice(1).map((c, w) => figuresOf(c, cuts[w], i, g.inputs.batchSize));
    return {
      model: g.model,
      load: describeLoad(g.load),
      batchSize: g.inputs.batchSize,
      throughput: (ok.length * g.inputs.batchSize) / seconds,
      requestRate: ok.length / seconds,
      latencyMs: summarizeLatencies(ok.map((x) => x.latencyMs)),
      errors: merged.length - ok.length,
      delayed: g.delayed,
      firstError: g.firstError,
      server: serverSplit(first.stats[i], last.stats[i]),
      windows: figures,
      stable: isStable(figures, rule),
    };
  });
  return {
    streams: results,
    throughput: results.reduce((s, r) => s + r.throughput, 0),
    stable: results.every((r) => r.stable),
    windows,
    measuredMs: seconds * 1000,
    cpu: cpuBetween(first.cpu, last.cpu),
    memory,
  };
}
