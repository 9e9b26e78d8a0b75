/**
 * `batch`: client batch sizes 1, 2, 4, ... 32 (up to each model's max_batch_size), one instance with
 * the engine's thread budget, every request carrying a whole batch; throughput counts inferences
 * (batch rows) per second, as the papers' batched inference did. Then server-side dynamic
 * batching: clients send batch 1 with twice the largest batch outstanding, and the server's
 * dynamic batcher forms the batches, over its max batch size and queue delay.
 */
import { withInstances } from './config-overrides.js';
import {
  assertMeasured,
  plainSlices,
  plainSummary,
  runSetting,
  settledLine,
  type Experiment,
  type ResultRow,
  type SummaryRow,
} from './experiment.js';
import { batchSizesFor, bestPoint } from './sweep-rules.js';

/** Server-side dynamic batching settings swept with batch-1 clients. */
export interface DynamicBatchingSetting {
  maxBatchSize: number;
  delayUs: number;
}

/** Max batch sizes (within what the model allows) x queue delays. Pure. */
export function dynamicBatchingPlan(
  modelMaxBatch: number,
  sizes: readonly number[] = [4, 8, 16],
  delaysUs: readonly number[] = [0, 1000, 4000],
): DynamicBatchingSetting[] {
  if (modelMaxBatch < 2) return [];
  return sizes
    .filter((b) => b <= modelMaxBatch)
    .flatMap((maxBatchSize) => delaysUs.map((delayUs) => ({ maxBatchSize, delayUs })));
}

export const batchExperiment: Experiment = {
  name: 'batch',
  description: 'client batch sizes 1..32 per model, one instance',
  async run(ctx) {
    const rows: ResultRow[] = [];
    const summary: SummaryRow[] = [];
    for (const model of ctx.models) {
      const base = await ctx.target.config(model);
      const config = withInstances(base, 1);
      const maxBatch = Number(base.max_batch_size ?? 0);
      const sizes = batchSizesFor(maxBatch, ctx.options.batchSizes);
      const bar = ctx.progress.sweep(`${model} batch`, sizes.length);
      const mine: ResultRow[] = [];
      const ordered: ResultRow[] = [];
      try {
        for (const b of sizes) {
          bar.setting(`batch ${b}`);
          const { rows: r, measurement } = await runSetting(ctx, 'batch', [{ model, config, level: 1 }], bar, b);
          ordered.push(...r);
          assertMeasured(measurement, `${model} batch ${b}`);
          mine.push(...r);
          bar.settled(settledLine(measurement));
          await plainSlices(ctx, [model], ordered);
        }
      } finally {
        await ctx.target.unload(model);
        bar.done(`batch sizes ${sizes.join(', ')}`);
      }
      const dynamic = await dynamicBatching(ctx, model, config, maxBatch);
      rows.push(...ordered, ...dynamic);
      const one = mine.find((r) => r.batchSize === 1);
      const best = bestPoint(mine.map((r) => ({ ...r, level: r.batchSize })));
      const bestDynamic = [...dynamic].sort((a, b) => b.throughput - a.throughput)[0];
      summary.push({
        model,
        baseline: one?.throughput ?? NaN,
        best: best?.throughput ?? NaN,
        bestLevel: best?.batchSize ?? NaN,
        speedup: best && one ? best.throughput / one.throughput : NaN,
        maxLevel: NaN,
        perInstanceMB: NaN,
        note: `max_batch_size ${maxBatch}${
          bestDynamic && one
            ? `; dynamic batching with batch-1 clients: best ${bestDynamic.throughput.toFixed(1)} inf/s ` +
              `(${bestDynamic.setup}) = ${(bestDynamic.throughput / one.throughput).toFixed(2)}x batch 1`
            : ''
        }`,
        ...plainSummary(ordered, model, best && mine.find((r) => r.batchSize === best.batchSize), null),
      });
    }
    return {
      experiment: 'batch',
      rows,
      summary,
      summaryTitle: 'Client batch size (best column: batch size) against batch 1, one instance',
      notes: [
        'Rows of phase "dynamic": clients send batch 1 and the server\'s dynamic batcher forms the batches ' +
          '(setup names max batch and queue delay); ' +
          'the note column compares the best of them with batch-1 requests without batching.',
      ],
    };
  },
};

/** Batch-1 clients against each dynamic batching setting, one instance. */
async function dynamicBatching(
  ctx: Parameters<Experiment['run']>[0],
  model: string,
  config: Record<string, unknown>,
  maxBatch: number,
): Promise<ResultRow[]> {
  const plan = dynamicBatchingPlan(maxBatch);
  if (plan.length === 0) return [];
  const bar = ctx.progress.sweep(`${model} dynamic batching`, plan.length);
  const rows: ResultRow[] = [];
  try {
    for (const s of plan) {
      const what = `dynamic batching max ${s.maxBatchSize}, delay ${s.delayUs} us`;
      bar.setting(what);
      const withBatching = {
        ...config,
        max_batch_size: s.maxBatchSize,
        dynamic_batching: { max_queue_delay_microseconds: s.delayUs, preferred_batch_size: [s.maxBatchSize] },
      };
      const { rows: r, measurement } = await runSetting(
        ctx,
        'dynamic',
        [{ model, config: withBatching, level: 1, concurrency: 2 * s.maxBatchSize }],
        bar,
        1,
      );
      assertMeasured(measurement, `${model} ${what}`);
      rows.push(...r.map((x) => ({ ...x, setup: `${x.setup}, ${what}` })));
      bar.settled(settledLine(measurement));
    }
  } finally {
    await ctx.target.unload(model);
    bar.done(`${plan.length} dynamic batching settings`);
  }
  return rows;
}
