/**
 * The plain-session baseline as experiments use it: one PlainSession per model, started on first
 * use and kept loaded (idle between slices), measured in slices between the experiment's own
 * settings. Each slice becomes a result row of phase "plain", in measurement order, so that a
 * setting's ratio to the plain session uses the slices just before and after it (plain-ratios.ts).
 * A model whose plain session cannot run (no local model file, inputs the raw session refuses) is
 * said once in the notes and measured without it.
 */
import type { ResultRow } from './result-row.js';
import type { Target } from './target.js';
import type { BenchOptions } from './options.js';

import { createInputSource } from './inputs.js';
import { PLAIN_SESSION_LABEL, PlainSession } from './plain-session.js';

/** What a plain-session slice needs of an experiment's context. */
interface SliceContext {
  target: Target;
  options: BenchOptions;
}

/** Warm-up before a slice: the session is loaded and warm already, only the loop restarts. */
const SLICE_WARMUP_MS = 500;

export class PlainBaselines {
  private readonly sessions = new Map<string, Promise<PlainSession | null>>();
  readonly notes: string[] = [];

  /** Measures one slice of `model`'s plain session (the model must be loaded on the target, for its inputs). */
  async row(ctx: SliceContext, model: string): Promise<ResultRow | null> {
    const session = await this.session(ctx, model);
    if (!session) return null;
    const { options } = ctx;
    try {
      const s = await session.measure(options.windowMs, Math.min(SLICE_WARMUP_MS, options.warmupMs), options.stability);
      return {
        phase: 'plain',
        model,
        level: 1,
        batchSize: 1,
        load: 'awaited in a loop (1 outstanding)',
        setup: PLAIN_SESSION_LABEL,
        throughput: s.throughput,
        requestRate: s.throughput,
        latencyAvgMs: s.latencyMs.avg,
        latencyP50Ms: s.latencyMs.p50,
        latencyP90Ms: s.latencyMs.p90,
        latencyP95Ms: s.latencyMs.p95,
        latencyP99Ms: s.latencyMs.p99,
        errors: 0,
        stable: s.stable,
        windows: s.windows.length,
        queueUs: NaN,
        computeInferUs: NaN,
        computeOtherUs: NaN,
        cpuProcessPct: s.cpuPct,
        cpuSystemPct: NaN,
        loadedBytes: s.rssBytes,
        peakBytes: NaN,
      };
    } catch (err) {
      this.give(model, `its plain session stopped: ${(err as Error).message}`);
      return null;
    }
  }

  close(): void {
    for (const s of this.sessions.values()) void s.then((x) => x?.close());
    this.sessions.clear();
  }

  private session(ctx: SliceContext, model: string): Promise<PlainSession | null> {
    let s = this.sessions.get(model);
    if (!s) {
      s = this.start(ctx, model);
      this.sessions.set(model, s);
    }
    return s;
  }

  private async start(ctx: SliceContext, model: string): Promise<PlainSession | null> {
    const file = await ctx.target.modelFile(model).catch(() => null);
    if (!file) {
      this.notes.push(
        `Model ${model}: no plain-session baseline ` +
          "(the model file is not on this machine; give the server's repository with --repo).",
      );
      return null;
    }
    try {
      const source = await createInputSource(
        await ctx.target.metadata(model),
        ctx.options.inputData,
        1,
        ctx.options.shapes,
      );
      const inputs = Array.from({ length: 4 }, () => source.next());
      return await PlainSession.start(file, inputs);
    } catch (err) {
      this.notes.push(`Model ${model}: no plain-session baseline (${(err as Error).message}).`);
      return null;
    }
  }

  private give(model: string, why: string): void {
    this.notes.push(`Model ${model}: ${why}`);
    void this.sessions.get(model)?.then((x) => x?.close());
    this.sessions.set(model, Promise.resolve(null));
  }
}
