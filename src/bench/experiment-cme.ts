/**
 * `cme`: concurrent model executions of one model. For each model: its baseline, then the
 * concurrency level (instances) rises 1, 2, 3, ... with closed loops that keep every instance
 * busy, until throughput stops improving (5% over 3 steps), the next instance would not fit the
 * memory budget, or the highest level is reached. Memory per instance is estimated from the peak
 * memory measured while serving each level; the maximum concurrency level is what the budget allows.
 */
import { withInstances } from './config-overrides.js';
import { measureBaseline } from './experiment-baseline.js';
import {
  assertMeasured,
  memoryNow,
  plainSlices,
  plainSummary,
  runSetting,
  settledLine,
  type Experiment,
  type ExperimentContext,
  type ResultRow,
  type SummaryRow,
} from './experiment.js';
import { bestPoint, estimateMemory, maxLevelForMemory, nextSweepStep, type MemoryModel } from './sweep-rules.js';

export interface SweepOutcome {
  /** The settings measured, one row per model and level. */
  rows: ResultRow[];
  /** The same rows with the plain-session slices taken after each level, in measurement order. */
  ordered: ResultRow[];
  memory: MemoryModel | null;
  stopReason: string;
}

/**
 * Sweeps levels 1, 2, ... of a set of models loaded together (one model for `cme`, several for
 * `cme-mix`); `figure` turns a level's rows into the number the stop rule watches.
 */
export async function sweepLevels(
  ctx: ExperimentContext,
  phase: string,
  models: string[],
  title: string,
  figure: (rows: ResultRow[]) => number,
): Promise<SweepOutcome> {
  const { target, options } = ctx;
  const bases = await Promise.all(models.map((m) => target.config(m)));
  for (const m of models) await target.unload(m);
  const idleBytes = await memoryNow(target);
  const bar = ctx.progress.sweep(title, options.sweep.maxLevel);
  const rows: ResultRow[] = [];
  const ordered: ResultRow[] = [];
  const points: { level: number; throughput: number }[] = [];
  const mem: { level: number; bytes: number }[] = [];
  let memory: MemoryModel | null = null;
  let stopReason = '';
  try {
    for (;;) {
      const decision = nextSweepStep(points, memory, options.sweep);
      if ('stop' in decision) {
        stopReason = decision.stop;
        break;
      }
      const level = decision.next;
      bar.setting(`level ${level}`);
      // so memory is the level's own, and the old instances never coexist with the new
      for (const m of models) await target.unload(m);
      let outcome: Awaited<ReturnType<typeof runSetting>>;
      try {
        outcome = await runSetting(
          ctx,
          phase,
          models.map((m, i) => ({ model: m, config: withInstances(bases[i], level), level })),
          bar,
        );
      } catch (err) {
        stopReason = `level ${level} failed: ${(err as Error).message}`;
        break;
      }
      assertMeasured(outcome.measurement, `${title} level ${level}`);
      rows.push(...outcome.rows);
      ordered.push(...outcome.rows);
      bar.setting(`level ${level}: plain session`);
      await plainSlices(ctx, models, ordered);
      points.push({ level, throughput: figure(outcome.rows) });
      // The peak while serving, not the memory right after loading: under load each session also
      // holds its activation buffers, and that is what has to fit.
      const bytes = Number.isFinite(outcome.peakBytes) ? outcome.peakBytes : outcome.loadedBytes;
      if (Number.isFinite(bytes)) mem.push({ level, bytes });
      memory = Number.isFinite(idleBytes) ? estimateMemory(mem, idleBytes) : null;
      bar.settled(settledLine(outcome.measurement));
    }
  } finally {
    for (const m of models) await target.unload(m);
    bar.done(stopReason);
  }
  return { rows, ordered, memory, stopReason };
}

export function memoryFigures(
  memory: MemoryModel | null,
  budgetBytes: number,
): { maxLevel: number; perInstanceMB: number } {
  // Without an estimate the maximum level is unknown (NaN, shown as "-"), not unbounded.
  return {
    maxLevel: memory ? maxLevelForMemory(memory, budgetBytes) : NaN,
    perInstanceMB: memory ? memory.perInstanceBytes / 2 ** 20 : NaN,
  };
}

export const cmeExperiment: Experiment = {
  name: 'cme',
  description:
    'instances 1, 2, 3, ... of each model until throughput saturates or memory runs out, against its baseline',
  async run(ctx) {
    const rows: ResultRow[] = [];
    const summary: SummaryRow[] = [];
    for (const model of ctx.models) {
      const baseBar = ctx.progress.sweep(`${model} baseline`, 1);
      const { baseline, rows: baseRows } = await measureBaseline(ctx, model, baseBar);
      baseBar.done('baseline measured');
      const sweep = await sweepLevels(ctx, 'cme', [model], `${model} cme`, (r) => r[0].throughput);
      const mine = [...baseRows, ...sweep.ordered];
      rows.push(...mine);
      const best = bestPoint(sweep.rows);
      summary.push({
        model,
        baseline: baseline.throughput,
        best: best?.throughput ?? NaN,
        bestLevel: best?.level ?? NaN,
        speedup: best ? best.throughput / baseline.throughput : NaN,
        ...memoryFigures(sweep.memory, ctx.options.sweep.memoryBudgetBytes),
        note: sweep.stopReason,
        ...plainSummary(mine, model, best && sweep.rows.find((r) => r.level === best.level), baseline),
      });
    }
    return {
      experiment: 'cme',
      rows,
      summary,
      summaryTitle: 'Concurrent model executions (instances of one model) against the single-tenant baseline',
      notes: [
        `Memory budget ${(ctx.options.sweep.memoryBudgetBytes / 2 ** 30).toFixed(1)} GiB; ` +
          'memory per instance from the peak memory measured while serving each level ' +
          '(least-squares slope over levels).',
        "Memory is the whole process's resident memory, a high-water mark: " +
          'a model measured after a larger one may show no growth ("-"); ' +
          'measure it alone (--models NAME) for its own figure.',
      ],
    };
  },
};
