/**
 * `cme-mix`: several different models at once. Each model's baseline is measured alone; then all
 * of them are loaded together with 1, 2, 3, ... instances each, every one kept busy, and each
 * model's throughput in the mix is compared with its own baseline.
 *
 * The stop rule watches the normalized total, sum(in mix / alone): raw inferences per second would
 * be dominated by the fastest model. Serving the models one at a time (time-sharing, the
 * single-tenant way) gives a normalized total of exactly 1, so that sum is the speedup of the mix.
 */
import { measureBaseline } from './experiment-baseline.js';
import { memoryFigures, sweepLevels } from './experiment-cme.js';
import { plainSummary, type Experiment, type ResultRow, type SummaryRow } from './experiment.js';
import { errors } from '../errors.js';

export const TOTAL_INFERENCES = '(all models, inf/s)';
export const TOTAL_NORMALIZED = '(all models, normalized)';

export const cmeMixExperiment: Experiment = {
  name: 'cme-mix',
  description: 'several models at once, 1, 2, ... instances each; per model and total against each model alone',
  async run(ctx) {
    if (ctx.models.length < 2)
      throw errors.invalidArg(
        `cme-mix needs at least 2 models, got ${ctx.models.length} (${ctx.models.join(', ') || 'none'})`,
      );
    const alone = new Map<string, ResultRow>();
    const ordered: ResultRow[] = [];
    const bar = ctx.progress.sweep('baselines (each alone)', ctx.models.length);
    for (const m of ctx.models) {
      const { baseline, rows } = await measureBaseline(ctx, m, bar);
      alone.set(m, baseline);
      ordered.push(...rows);
    }
    bar.done('baselines measured');
    const normalized = (rows: ResultRow[]) =>
      rows.reduce((s, r) => s + r.throughput / alone.get(r.model)!.throughput, 0);
    const sweep = await sweepLevels(ctx, 'mix', ctx.models, 'mix', normalized);
    ordered.push(...sweep.ordered);

    const levels = [...new Set(sweep.rows.map((r) => r.level))];
    const byLevel = levels.map((level) => ({ level, rows: sweep.rows.filter((r) => r.level === level) }));
    const best = byLevel.reduce<(typeof byLevel)[number] | null>(
      (b, x) => (!b || normalized(x.rows) > normalized(b.rows) ? x : b),
      null,
    );
    const mem = memoryFigures(sweep.memory, ctx.options.sweep.memoryBudgetBytes);
    const summary: SummaryRow[] = ctx.models.map((model) => {
      const base = alone.get(model)!.throughput;
      const inMix = best?.rows.find((r) => r.model === model)?.throughput ?? NaN;
      const bestRow = best?.rows.find((r) => r.model === model);
      return {
        model,
        baseline: base,
        best: inMix,
        bestLevel: best?.level ?? NaN,
        speedup: inMix / base,
        maxLevel: NaN,
        perInstanceMB: NaN,
        note: 'in the mix at its best level, against alone',
        ...plainSummary(ordered, model, bestRow, alone.get(model)),
      };
    });
    const n = ctx.models.length;
    const timeShared = [...alone.values()].reduce((s, r) => s + r.throughput, 0) / n;
    const total = best ? best.rows.reduce((s, r) => s + r.throughput, 0) : NaN;
    const norm = best ? normalized(best.rows) : NaN;
    summary.push(
      {
        model: TOTAL_INFERENCES,
        baseline: timeShared,
        best: total,
        bestLevel: best?.level ?? NaN,
        speedup: total / timeShared,
        ...mem,
        note: 'baseline: the models taking turns, each alone 1/n of the time',
      },
      {
        model: TOTAL_NORMALIZED,
        baseline: 1,
        best: norm,
        bestLevel: best?.level ?? NaN,
        speedup: norm,
        ...mem,
        note: sweep.stopReason,
      },
    );
    return {
      experiment: 'cme-mix',
      rows: ordered,
      summary,
      summaryTitle: `${n} models at once (level = instances of each model) against each model alone`,
      notes: [
        'Per model: throughput in the mix at the best level against the same model alone (its single-tenant baseline).',
        `Totals: the baseline is time-sharing, the ${n} models served one at a time for equal time ` +
          `(sum of baselines / ${n} inf/s; normalized 1).`,
        'Max level and memory per instance count one instance of every model as one step.',
      ],
    };
  },
};
