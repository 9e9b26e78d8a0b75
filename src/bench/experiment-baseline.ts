/**
 * `baseline`: each model alone, one instance, the runtime's defaults (one intra-op thread per core,
 * spinning on): the papers' single-tenant baseline that every speedup is measured against.
 */
import { runtimeDefaults } from './config-overrides.js';
import { assertMeasured, runSetting, settledLine, type Experiment, type ExperimentContext, type ResultRow } from './experiment.js';
import type { SweepProgress } from './progress.js';

/** Measures one model's baseline and unloads it again. */
export async function measureBaseline(ctx: ExperimentContext, model: string, bar: SweepProgress): Promise<ResultRow> {
  const config = runtimeDefaults(await ctx.target.config(model), ctx.target.cores());
  bar.setting('baseline');
  try {
    const { rows, measurement } = await runSetting(ctx, 'baseline', [{ model, config, level: 1 }], bar);
    assertMeasured(measurement, `baseline of "${model}"`);
    bar.settled(settledLine(measurement));
    rows[0].setup += ', spinning (runtime defaults)';
    return rows[0];
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
    for (const model of ctx.models) rows.push(await measureBaseline(ctx, model, bar));
    bar.done(`${rows.length} models`);
    return {
      experiment: 'baseline',
      rows,
      summary: rows.map((r) => ({ model: r.model, baseline: r.throughput, best: r.throughput, bestLevel: 1, speedup: 1, maxLevel: NaN, perInstanceMB: NaN, note: r.setup })),
      summaryTitle: 'Single-tenant baseline: one instance, runtime defaults',
      notes: [],
    };
  },
};
