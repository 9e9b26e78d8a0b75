/**
 * `batch`: client batch sizes 1, 2, 4, ... 32 (up to each model's max_batch_size), one instance with
 * the engine's thread budget, every request carrying a whole batch; throughput counts inferences
 * (batch rows) per second, as the papers' batched inference did.
 */
import { withInstances } from './config-overrides.js';
import { assertMeasured, runSetting, settledLine, type Experiment, type ResultRow, type SummaryRow } from './experiment.js';
import { batchSizesFor, bestPoint } from './plans.js';

/**
 * Server-side batching variants measured after the client batches. Only "none" exists now; the
 * dynamic batcher's variant (clients send batch 1, the server's `dynamic_batching` gathers them;
 * many requests outstanding) is added here by the dynamic-batching work, with its own phase name.
 */
export interface ServerBatchingVariant {
  phase: string;
  describe: string;
}
export const SERVER_BATCHING_VARIANTS: ServerBatchingVariant[] = [];

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
      try {
        for (const b of sizes) {
          bar.setting(`batch ${b}`);
          const { rows: r, measurement } = await runSetting(ctx, 'batch', [{ model, config, level: 1 }], bar, b);
          assertMeasured(measurement, `${model} batch ${b}`);
          mine.push(...r);
          bar.settled(settledLine(measurement));
        }
      } finally {
        await ctx.target.unload(model);
        bar.done(`batch sizes ${sizes.join(', ')}`);
      }
      rows.push(...mine);
      const one = mine.find((r) => r.batchSize === 1);
      const best = bestPoint(mine.map((r) => ({ ...r, level: r.batchSize })));
      summary.push({
        model, baseline: one?.throughput ?? NaN, best: best?.throughput ?? NaN, bestLevel: best?.batchSize ?? NaN,
        speedup: best && one ? best.throughput / one.throughput : NaN, maxLevel: NaN, perInstanceMB: NaN,
        note: `max_batch_size ${maxBatch}`,
      });
    }
    return {
      experiment: 'batch', rows, summary,
      summaryTitle: 'Client batch size (best column: batch size) against batch 1, one instance',
      notes: ['Dynamic batching (server-side) is not measured yet: see SERVER_BATCHING_VARIANTS in src/bench/experiment-batch.ts.'],
    };
  },
};
