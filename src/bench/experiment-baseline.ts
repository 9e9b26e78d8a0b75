/**
 * `baseline`: each model alone, one instance, the runtime's defaults (one intra-op thread per core,
 * spinning on): the papers' single-tenant baseline that every speedup is measured against.
 */
import { runtimeDefaults } from './config-overrides.js';
import {
  assertMeasured,
  plainSlices,
  plainSummary,
  runSetting,
  settledLine,
  type Experiment,
  type ExperimentContext,
  type ResultRow,
  type SummaryRow,
} from './experiment.js';
import type { SweepProgress } from './progress.js';

export interface BaselineOutcome {
  /** The single-tenant baseline's row. */
  baseline: ResultRow;
  /** In measurement order: a plain-session slice, the baseline, another slice (when the plain baseline is on). */
  rows: ResultRow[];
}

/**
 * Measures one model's single-tenant baseline, between two slices of its plain session (A/B, so
 * that drift falls on both), and unloads it again.
 */
export async function measureBaseline(
  ctx: ExperimentContext,
  model: string,
  bar: SweepProgress,
  { plain = true } = {},
): Promise<BaselineOutcome> {
  const config = runtimeDefaults(await ctx.target.config(model), ctx.target.cores());
  const rows: ResultRow[] = [];
  bar.setting('baseline');
  try {
    await ctx.target.load(model, config);
    if (plain) await plainSlices(ctx, [model], rows);
    const { rows: measured, measurement } = await runSetting(ctx, 'baseline', [{ model, config, level: 1 }], bar);
    assertMeasured(measurement, `baseline of "${model}"`);
    bar.settled(settledLine(measurement));
    measured[0].setup += ', spinning (runtime defaults)';
    rows.push(measured[0]);
    if (plain) await plainSlices(ctx, [model], rows);
    return { baseline: measured[0], rows };
  } finally {
    await ctx.target.unload(model);
  }
}

export const baselineExperiment: Experiment = {
  name: 'baseline',
  description: 'each model alone, one instance, runtime defaults (one thread per core, spinning)',
  async run(ctx) {
    const bar = ctx.progress.sweep('baseline', ctx.models.length);
    const rows: ResultRow[] = [];
    const summary: SummaryRow[] = [];
    for (const model of ctx.models) {
      const { baseline: r, rows: mine } = await measureBaseline(ctx, model, bar);
      rows.push(...mine);
      summary.push({
        model,
        baseline: r.throughput,
        best: r.throughput,
        bestLevel: 1,
        speedup: 1,
        maxLevel: NaN,
        perInstanceMB: NaN,
        note: r.setup,
        ...plainSummary(mine, model, r, r),
      });
    }
    bar.done(`${ctx.models.length} models`);
    return {
      experiment: 'baseline',
      rows,
      summary,
      summaryTitle: 'Single-tenant baseline: one instance, runtime defaults, against a plain onnxruntime-node session',
      notes: [],
    };
  },
};
