/**
 * The profiler's measuring side: the placement profiler (src/placement/profiler.ts) decides what
 * to measure; this measures it on the in-process engine with the bench's own method (closed loop
 * keeping every instance busy, short windows with the stability rule). It lives in the bench
 * because it needs the engine, which placement must not import (LAYOUT.md).
 *
 * loadOrMeasureProfiles is what `tenancy profile`, `tenancy plan` and `serve --placement auto` call.
 */
import { statSync } from 'node:fs';
import {
  ProfileStore,
  profileModels,
  DEFAULT_PROFILE_DB,
  type PointMeasurement,
  type ProfileBench,
  type ProfiledModel,
  type ProfilerOptions,
} from '../placement/index.js';
import type { RepositoryPaths } from '../repository/index.js';
import { runtimeVersion, type Device } from '../runtime/index.js';
import { EngineTarget } from './engine-target.js';
import { memoryNow } from './experiment.js';
import { createInputSource, type InputData } from './inputs.js';
import { measure } from './measure.js';
import { selectModels } from './run.js';
import type { StabilityRule } from './windows.js';

export interface ProfileMeasureOptions {
  /** Measurement window, ms; default 1000 (short: a profile has many configurations). */
  windowMs?: number;
  /** Load before the first window, ms; default 500. */
  warmupMs?: number;
  /** Default: 3 windows within 10%, at most 6. */
  stability?: StabilityRule;
  inputData?: InputData;
  shapes?: Record<string, number[]>;
}

export const DEFAULT_PROFILE_MEASURE = {
  windowMs: 1000,
  warmupMs: 500,
  stability: { threshold: 0.1, count: 3, maxWindows: 6 },
};

const settle = () => new Promise((r) => setTimeout(r, 200));

/** A ProfileBench over an engine target: each configuration loaded alone, measured, unloaded. */
export function engineProfileBench(target: EngineTarget, o: ProfileMeasureOptions = {}): ProfileBench {
  const windowMs = o.windowMs ?? DEFAULT_PROFILE_MEASURE.windowMs;
  const warmupMs = o.warmupMs ?? DEFAULT_PROFILE_MEASURE.warmupMs;
  const stability = o.stability ?? DEFAULT_PROFILE_MEASURE.stability;
  const runtime = runtimeVersion();
  const primed = new Set<string>();
  return {
    config: (model) => target.config(model),
    modelFile: (model) => target.modelFile(model),
    runtime: () => runtime,
    async measure(model, config, setting): Promise<PointMeasurement> {
      if (!primed.has(model)) {
        // The first session in a process also loads the runtime's libraries, and a model's first
        // load holds its file and parsed graph for a moment; resident memory keeps that high-water
        // mark, so load each model once before its first figure and count only what comes after.
        primed.add(model);
        await target.load(model, config).catch(() => {});
      }
      await target.unload(model);
      await settle();
      const idle = await memoryNow(target);
      try {
        await target.load(model, config);
        const inputs = await createInputSource(
          await target.metadata(model),
          o.inputData ?? { kind: 'random' },
          1,
          o.shapes ?? {},
        );
        const m = await measure(
          target,
          [{ model, load: { mode: 'concurrency', concurrency: setting.outstanding }, inputs }],
          { windowMs, warmupMs, stability },
        );
        const s = m.streams[0];
        return {
          throughput: s.throughput,
          p99Ms: s.latencyMs.p99,
          memoryPerInstance: await memoryPerInstance(
            target,
            model,
            setting.instances,
            idle,
            m.memory?.peakTotalBytes ?? NaN,
          ),
          errors: s.errors,
          firstError: s.firstError,
        };
      } catch (err) {
        return { throughput: 0, p99Ms: NaN, memoryPerInstance: NaN, errors: 1, firstError: (err as Error).message };
      } finally {
        await target.unload(model);
      }
    },
  };
}

/**
 * Memory one instance takes. Process hosts report their own resident memory: that is the figure.
 * Thread hosts share this process, whose resident memory is a high-water mark (freed memory is
 * kept by the allocator), so the growth over the idle figure may hide an instance: the estimate
 * is the growth per instance while serving, and at least the model file (the weights it holds).
 */
async function memoryPerInstance(
  target: EngineTarget,
  model: string,
  instances: number,
  idleBytes: number,
  peakBytes: number,
): Promise<number> {
  const own = (await target.instances(model)).map((i) => i.memoryBytes).filter((b): b is number => b !== undefined);
  if (own.length === instances && own.length > 0) return own.reduce((a, b) => a + b, 0) / own.length;
  const file = await target.modelFile(model);
  const floor = file ? statSync(file).size : 0;
  const growth = Number.isFinite(peakBytes) && Number.isFinite(idleBytes) ? (peakBytes - idleBytes) / instances : 0;
  return Math.max(floor, growth);
}

export interface LoadOrMeasureOptions extends ProfileMeasureOptions, Omit<ProfilerOptions, 'store' | 'settings'> {
  /** Profile database file; default .tenancy/profiles.db; null = measure everything, store nothing. */
  db?: string | null;
}

/**
 * Profiles of `models` (default: all in the repository) on `devices`: stored ones reused, missing
 * ones measured on a separate in-process engine over the same repository (so a serving engine's
 * models are not disturbed; pass the serving engine's repositories).
 */
export async function loadOrMeasureProfiles(
  repository: string | RepositoryPaths,
  devices: Device[],
  models: string[] | undefined,
  options: LoadOrMeasureOptions = {},
): Promise<ProfiledModel[]> {
  const target = new EngineTarget({ repository, devices });
  const store = options.db === null ? undefined : new ProfileStore(options.db ?? DEFAULT_PROFILE_DB);
  try {
    const names = await selectModels(target, models);
    const settings = {
      windowMs: options.windowMs ?? DEFAULT_PROFILE_MEASURE.windowMs,
      warmupMs: options.warmupMs ?? DEFAULT_PROFILE_MEASURE.warmupMs,
      batchSizes: options.batchSizes ?? [4],
      // A profile measured at one input shape says nothing of another.
      ...(options.shapes && Object.keys(options.shapes).length ? { shapes: options.shapes } : {}),
    };
    return await profileModels(engineProfileBench(target, options), devices, names, { ...options, store, settings });
  } finally {
    store?.close();
    await target.close();
  }
}
