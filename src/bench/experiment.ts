/**
 * What every experiment shares: its interface (so `dmp` and others plug in by registering one
 * more), the flat result row that reports, CSV and the database all read, and `runSetting`,
 * which loads a configuration, measures it and turns it into rows.
 */
import { errors } from '../errors.js';
import type { Target } from './target.js';
import type { BenchOptions } from './options.js';
import type { Progress, SweepProgress } from './progress.js';
import { createInputSource } from './inputs.js';
import { measure, type Measurement, type StreamResult } from './measure.js';
import { outstandingFor } from './sweep-rules.js';
import type { Table } from './table.js';
import type { ResultRow } from './result-row.js';
import type { PlainBaselines } from './plain-baseline.js';
import { plainFigure, plainRatios, type PlainFigure } from './plain-ratios.js';

export type { ResultRow } from './result-row.js';

export interface ExperimentContext {
  target: Target;
  /** The models to measure, in order. */
  models: string[];
  options: BenchOptions;
  progress: Progress;
  /** The plain-session baseline measured between settings; null when it is off (--no-plain-baseline). */
  plain: PlainBaselines | null;
}

/** A per-model line of the summary table, in the terms of the papers. */
export interface SummaryRow {
  model: string;
  /** Inferences/s of the single-tenant baseline (one instance, runtime defaults). */
  baseline: number;
  best: number;
  bestLevel: number;
  /** best / baseline. */
  speedup: number;
  /** What memory allows (Infinity: not bounded by what was measured). */
  maxLevel: number;
  perInstanceMB: number;
  /** Why the sweep ended, or other notes. */
  note: string;
  /** The plain-session baseline over its slices (median, spread); absent or null when not measured. */
  plain?: PlainFigure | null;
  /** The best setting over the plain slices measured around it (plain-ratios.ts). */
  bestVsPlain?: number;
  /** The single-tenant baseline (in tenancy) over the plain slices around it. */
  baselineVsPlain?: number;
}

export interface ExperimentResult {
  experiment: string;
  rows: ResultRow[];
  summary: SummaryRow[];
  /** What the summary's columns mean for this experiment, for the report. */
  summaryTitle: string;
  notes: string[];
  /** Further tables of an experiment's own shape (e.g. dmp's placements), each also written as a CSV file. */
  tables?: NamedTable[];
}

export interface NamedTable {
  title: string;
  /** CSV file name in the report folder. */
  file: string;
  table: Table;
}

export interface Experiment {
  name: string;
  description: string;
  run(ctx: ExperimentContext): Promise<ExperimentResult>;
}

/** A model to load for one setting: its config override and how many instances it gives. */
export interface SettingModel {
  model: string;
  config: Record<string, unknown>;
  level: number;
  /** Requests outstanding; default: enough to keep every instance busy (level x per-instance). */
  concurrency?: number;
}

export interface SettingOutcome {
  rows: ResultRow[];
  measurement: Measurement;
  /** Memory of the serving side with the setting loaded, before the load, bytes (NaN when unknown). */
  loadedBytes: number;
  /** Peak memory of the serving side while it served the load, bytes (NaN when unknown). */
  peakBytes: number;
}

const settle = () => new Promise((r) => setTimeout(r, 300));

/** Memory of the serving side now (NaN when the target cannot tell). */
export async function memoryNow(target: Target): Promise<number> {
  const m = await target.memory();
  return m ? m.processRssBytes + m.outsideBytes : NaN;
}

/**
 * Unloads what `loaded` lists, loads the setting's models (one at a time, so memory peaks are the
 * setting's own), measures them together under closed loops that keep every instance busy, and
 * leaves them loaded (the caller unloads or reloads).
 */
export async function runSetting(
  ctx: ExperimentContext,
  phase: string,
  models: SettingModel[],
  bar: SweepProgress,
  batchSize = 1,
): Promise<SettingOutcome> {
  const { target, options } = ctx;
  for (const m of models) await target.load(m.model, m.config);
  await settle();
  const loadedBytes = await memoryNow(target);
  const streams = [];
  for (const m of models) {
    const meta = await target.metadata(m.model);
    streams.push({
      model: m.model,
      load: {
        mode: 'concurrency' as const,
        concurrency: m.concurrency ?? outstandingFor(m.level, options.perInstance),
      },
      inputs: await createInputSource(meta, options.inputData, batchSize, options.shapes),
    });
  }
  const measurement = await measure(target, streams, {
    windowMs: options.windowMs,
    warmupMs: options.warmupMs,
    stability: options.stability,
    onWindow: (i, figures) =>
      bar.window(
        i,
        figures.reduce((s, f) => s + f.throughput, 0),
      ),
  });
  const rows: ResultRow[] = [];
  for (const [i, s] of measurement.streams.entries()) {
    rows.push(toRow(phase, s, models[i].level, await describeSetup(target, models[i].model), measurement, loadedBytes));
  }
  return { rows, measurement, loadedBytes, peakBytes: measurement.memory?.peakTotalBytes ?? NaN };
}

/** "2 x 1 thread" or "1 x 2 threads, spinning": what the instances were, as the target reports. */
async function describeSetup(target: Target, model: string): Promise<string> {
  const instances = await target.instances(model).catch(() => []);
  if (instances.length === 0) return '';
  const threads = [...new Set(instances.map((i) => i.threads))].filter((t) => t !== undefined).join('/');
  // Process hosts report their own memory: the per-instance figure the papers' memory limit is about.
  const own = instances.map((i) => i.memoryBytes).filter((b): b is number => b !== undefined);
  const each = own.length ? `, ${(own.reduce((a, b) => a + b, 0) / own.length / 2 ** 20).toFixed(0)} MB each` : '';
  return (
    `${instances.length} x ${threads} thread${threads === '1' ? '' : 's'}` +
    `${instances[0].host === 'process' ? ` (process${each})` : ''}`
  );
}

export function toRow(
  phase: string,
  s: StreamResult,
  level: number,
  setup: string,
  m: Measurement,
  loadedBytes: number,
): ResultRow {
  const sv = s.server;
  return {
    phase,
    model: s.model,
    level,
    batchSize: s.batchSize,
    load: s.load,
    setup,
    throughput: s.throughput,
    requestRate: s.requestRate,
    latencyAvgMs: s.latencyMs.avg,
    latencyP50Ms: s.latencyMs.p50,
    latencyP90Ms: s.latencyMs.p90,
    latencyP95Ms: s.latencyMs.p95,
    latencyP99Ms: s.latencyMs.p99,
    errors: s.errors,
    stable: s.stable,
    windows: s.windows.length,
    queueUs: sv?.queueUs ?? NaN,
    computeInferUs: sv?.computeInferUs ?? NaN,
    computeOtherUs: sv ? sv.computeInputUs + sv.computeOutputUs : NaN,
    cpuProcessPct: m.cpu.processPct,
    cpuSystemPct: m.cpu.systemPct,
    loadedBytes,
    peakBytes: m.memory?.peakTotalBytes ?? NaN,
  };
}

/** One line for a progress bar: the figure that matters and whether it was stable. */
export function settledLine(m: Measurement): string {
  const s = m.streams.map((x) => `${x.throughput.toFixed(1)}`).join(' + ');
  const errs = m.streams.reduce((n, x) => n + x.errors, 0);
  return (
    `${s} inf/s, p99 ${Math.max(...m.streams.map((x) => x.latencyMs.p99)).toFixed(1)} ms` +
    `${m.stable ? '' : ', unstable'}${errs ? `, ${errs} errors` : ''}`
  );
}

/** Throws when a setting failed every request, so an experiment does not report garbage as a figure. */
export function assertMeasured(m: Measurement, what: string): void {
  for (const s of m.streams) {
    if (s.throughput === 0 && s.errors > 0)
      throw errors.internal(`${what}: every request to model "${s.model}" failed, e.g.: ${s.firstError}`);
  }
}

/**
 * The plain-session figures of one model's summary row: its median over the slices, and the best
 * and baseline settings each over the slices measured around them. `rows` in measurement order.
 */
export function plainSummary(
  rows: readonly ResultRow[],
  model: string,
  best: ResultRow | null | undefined,
  baseline?: ResultRow | null,
): Pick<SummaryRow, 'plain' | 'bestVsPlain' | 'baselineVsPlain'> {
  const plain = plainFigure(rows, model);
  if (!plain) return {};
  const ratios = plainRatios(rows);
  const of = (r: ResultRow | null | undefined) => (r ? (ratios[rows.indexOf(r)] ?? NaN) : NaN);
  return { plain, bestVsPlain: of(best), baselineVsPlain: of(baseline) };
}

/** Appends a plain-session slice of each model (loaded on the target now) to `rows`, when the baseline is on. */
export async function plainSlices(ctx: ExperimentContext, models: readonly string[], rows: ResultRow[]): Promise<void> {
  if (!ctx.plain) return;
  for (const m of models) {
    const r = await ctx.plain.row(ctx, m);
    if (r) rows.push(r);
  }
}
