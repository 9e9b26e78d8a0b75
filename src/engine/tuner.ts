/**
 * The live tuner: moves a model from the measured defaults to its optimum under the load it is
 * actually served, and remembers the result.
 *
 * Why live: the figure that counts is the one clients get over HTTP or gRPC, where the front end's
 * CPU per request competes with inference on a small box. Throughput measured on the engine's own
 * completions while real clients drive it includes that cost; an in-process profile does not.
 *
 * How: a model whose config is silent on instances or batching (serving-defaults.ts) serves on
 * the defaults at once. When requests keep it busy (a request waiting or running in at least
 * `busyShare` of 50 ms samples: the server, not the clients, sets the pace, so throughput
 * measures the configuration; on a 2-core box whose main thread is saturated by HTTP, requests
 * wait in the sockets rather than in the engine, hence not a higher share), a hill climb
 * (placement/tuning-search.ts) tries one neighbouring configuration at a time, applied with the
 * engine's live moves (instances start and warm before old ones drain; batch sizes change in
 * place: no request is lost), and measures a window after each. A trial must beat the incumbent
 * by `minGain` in two windows in a row (this machine's noise is larger than small gains);
 * otherwise the incumbent comes back. With several models loaded the score is their total
 * throughput, each normalized by its own at the start, so a model's gain is not bought with
 * another's loss. It stops where no neighbour is better, after `maxTrials`, or after
 * `maxTuningMs`, and stores the result (tuning-memory.ts): the next start serves it from the
 * first request.
 *
 * The user's word stands: what a config states is never moved, and a placement set through
 * PUT /v2/placement ends tuning for that model.
 */
import type { Engine } from './engine.js';
import type { ModelView } from './model.js';
import type { ServingDefaults } from './serving-defaults.js';
import type { TuningMemory } from './tuning-memory.js';
import { estimateInstanceBytes } from './admission.js';
import {
  HillClimb,
  describePoint,
  pointKey,
  TUNING_LIMITS,
  type TuningPoint,
  type TuningSpace,
} from '../placement/tuning-search.js';
import os from 'node:os';

/**
 * fixed: the config states instances and batching (or a placement was set): served as written.
 * default: on the measured defaults, tuned when the load keeps it busy. tuning: trials running.
 * tuned: settled in this run (and stored). stored: serving what an earlier start's tuning found.
 */
export type TuningState = 'fixed' | 'default' | 'tuning' | 'tuned' | 'stored';

export interface TrialView {
  configuration: string;
  /** Score against the incumbent's (1 = as good). */
  ratio: number;
  accepted: boolean;
}

/** What GET /v2/placement, metrics and the start-up lines show per model. */
export interface ModelTuning {
  model: string;
  state: TuningState;
  /** What it serves with now. */
  configuration: string;
  /** Inferences/s served at that configuration, as the tuner last measured it under busy load; null before. */
  throughput: number | null;
  /** Inferences/s at the start of tuning (the defaults). */
  startThroughput: number | null;
  /** When the state or configuration last changed (ISO), and why. */
  changedAt: string;
  why: string;
  /** How long tuning took, ms (this run's, or the stored tuning's). */
  tuningMs: number | null;
  trials: TrialView[];
  /** The input shapes it was tuned at (per request, without the batch dim). */
  shapes: string | null;
}

export interface TunerOptions {
  /** Measurement window, ms. Default 1500. */
  windowMs?: number;
  /** Wait after a move before measuring, ms (new instances are already warm when a move ends). Default 300. */
  settleMs?: number;
  /** How often an idle tuner looks for a busy model, ms. Default 1000. */
  intervalMs?: number;
  /** Tuning of one model stops after this long, ms (the goal: settled within 60 s). Default 60000. */
  maxTuningMs?: number;
  /** A trial replaces the incumbent only when it scores at least this much higher (both windows). Default 1.05. */
  minGain?: number;
  maxTrials?: number;
  /** Share of samples with a request waiting or running for the load to count as busy. Default 0.6. */
  busyShare?: number;
  /** Where tunings are remembered across starts; null: not remembered. */
  memory?: TuningMemory | null;
  /** Called on every state or configuration change (start-up lines, logs). */
  onChange?: (t: ModelTuning) => void;
}

interface Tracked {
  model: ModelView;
  view: ModelTuning;
  space: TuningSpace;
}

interface Window {
  /** Inferences/s per model over the window. */
  rates: Map<string, number>;
  busy: boolean;
}

const SAMPLE_MS = 50;
/** Windows tried for a busy one before the tuner concludes the load went away. */
const BUSY_TRIES = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

export class LiveTuner {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly listeners = new Set<(t: ModelTuning) => void>();
  private readonly o: Required<Omit<TunerOptions, 'memory' | 'onChange'>> & Pick<TunerOptions, 'memory' | 'onChange'>;

  constructor(
    private readonly engine: Engine,
    options: TunerOptions = {},
  ) {
    this.o = {
      windowMs: 1500,
      settleMs: 300,
      intervalMs: 1000,
      maxTuningMs: 60_000,
      minGain: 1.05,
      maxTrials: 12,
      busyShare: 0.6,
      ...options,
    };
  }

  start(): void {
    this.stopped = false;
    this.refresh();
    this.timer ??= setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = null));
    }, this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops looking; a trial in progress ends (its model keeps the incumbent) before this resolves. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /**
   * Calls `listener` with each change the tuner reports (its state and why, as `onChange` gets
   * them) as it happens, until the returned function is called. The dashboard's timeline takes
   * them from here, each with its own time and reason, rather than comparing status() a second
   * apart (which merges changes within a second and pairs a trial's configuration with the
   * previous change's reason). One listener call per change: tuning changes come seconds apart.
   */
  subscribe(listener: (t: ModelTuning) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every loaded model's tuning, by name. */
  status(): ModelTuning[] {
    this.refresh();
    return [...this.tracked.values()].map((t) => structuredClone(t.view));
  }

  private async tick(): Promise<void> {
    this.refresh();
    for (const t of this.tracked.values()) {
      if (this.stopped) return;
      if (t.view.state === 'tuned' || t.view.state === 'stored') await this.followShapes(t);
      if (t.view.state === 'default') await this.tune(t);
    }
  }

  /** Starts tracking new or reloaded models; notices a model someone else placed. */
  private refresh(): void {
    const newest = new Map<string, ModelView>();
    for (const m of this.engine.loaded()) if (!newest.has(m.name)) newest.set(m.name, m);
    for (const name of this.tracked.keys()) if (!newest.has(name)) this.tracked.delete(name);
    for (const [name, m] of newest) {
      const known = this.tracked.get(name);
      if (known && known.model === m) continue;
      if (known && known.view.state !== 'fixed' && m.defaults?.source === 'tuner') {
        known.model = m; // the tuner's own move reloaded it (a change beyond the in-place ones)
        continue;
      }
      const tracked = this.track(m);
      this.tracked.set(name, tracked);
      // Loaded again (a load, or a placement beyond the in-place changes): what it serves now, and why, is a change.
      if (known) this.report(tracked);
    }
    for (const t of this.tracked.values()) {
      if (t.view.state !== 'fixed' && !t.model.defaults) {
        this.change(
          t,
          'fixed',
          'placed through PUT /v2/placement (or a load with a config): served as placed, no longer tuned',
        );
      }
    }
  }

  private track(m: ModelView): Tracked {
    const d = m.defaults;
    const space: TuningSpace = {
      cores: this.engine.cores,
      maxInstances: this.maxInstances(m),
      maxBatch: m.config.max_batch_size,
      tuneInstances: d?.instances != null && m.config.instance_group.every((g) => g.device === 'cpu'),
      tuneBatching: d?.batching != null && m.config.max_batch_size > 1,
    };
    const now = new Date().toISOString();
    const stored = d?.source === 'stored' ? (this.o.memory?.servedFor(m.name) ?? null) : null;
    const view: ModelTuning = {
      model: m.name,
      state: 'fixed',
      configuration: describePoint(pointOf(m), m.config.max_batch_size > 0),
      throughput: stored?.throughput ?? null,
      startThroughput: stored?.startThroughput ?? null,
      changedAt: now,
      why: '',
      tuningMs: stored?.tuningMs ?? null,
      trials: [],
      shapes: stored?.shapes ?? m.shapes,
    };
    if (!space.tuneInstances && !space.tuneBatching) {
      view.why = d
        ? 'nothing left to tune (instances on other devices, or a model that cannot batch with its instances fixed)'
        : 'its config states instance_group and dynamic_batching (or it cannot batch): served as written';
    } else if (stored) {
      view.state = 'stored';
      view.why =
        `tuned under live load at ${stored.tunedAt} in ${(stored.tuningMs / 1000).toFixed(1)} s: ` +
        `${stored.throughput.toFixed(1)} inf/s served ` +
        `(${(stored.throughput / Math.max(stored.startThroughput, 1e-9)).toFixed(2)}x the defaults)`;
    } else {
      view.state = 'default';
      const tunable = [space.tuneInstances && 'instances, threads', space.tuneBatching && 'batch size, queue delay'];
      view.why =
        `serving the measured defaults; tuned (${tunable.filter(Boolean).join('; ')}) ` +
        'as soon as requests keep it busy';
    }
    return { model: m, view, space };
  }

  /** A model with dynamic dims whose requests now carry other shapes: the stored tuning for them, or tuning again. */
  private async followShapes(t: Tracked): Promise<void> {
    const shapes = t.model.shapes;
    if (shapes === null || shapes === t.view.shapes) return;
    const stored = await this.o.memory?.at(t.model.file, shapes).catch(() => null);
    if (stored) {
      await this.apply(t, stored.point, 'stored').catch(() => {});
      t.view.throughput = stored.throughput;
      t.view.shapes = shapes;
      return this.change(
        t,
        'stored',
        `requests now carry shapes ${shapes}: serving what was tuned for them at ${stored.tunedAt}`,
      );
    }
    t.view.shapes = shapes;
    t.view.trials = [];
    this.change(
      t,
      'default',
      `requests now carry shapes ${shapes}, not tuned for yet: tuned again as soon as they keep it busy`,
    );
  }

  private async tune(t: Tracked): Promise<void> {
    const detected = await this.window(t);
    if (!detected?.busy || this.stopped) return;
    // The window that found the load busy may hold its ramp-up (clients connecting, code warming):
    // the start's figure, which every ratio is against, comes from the next one.
    const first = await this.busyWindow(t);
    if (!first?.busy || this.stopped) return;
    const startedAt = performance.now();
    const startPoint = pointOf(t.model);
    const refs = new Map(first.rates);
    const climb = new HillClimb(startPoint, t.space, { minGain: this.o.minGain, maxTrials: this.o.maxTrials });
    const startRate = first.rates.get(t.view.model) ?? 0;
    t.view.startThroughput = startRate;
    t.view.throughput = startRate;
    t.view.trials = [];
    t.view.shapes = t.model.shapes;
    this.change(
      t,
      'tuning',
      `requests keep it busy (${startRate.toFixed(1)} inf/s at the start): trying neighbouring configurations`,
    );
    // Every window measured at the incumbent: its throughput is their mean, not the last one's
    // noise, and a trial is compared with the higher of that mean and the latest window (a low
    // window after a revert once let a worse configuration in: it is stored, so err on keeping).
    let incumbentWindows = [first];
    let incumbentRates = [startRate];
    const meanRate = () => incumbentRates.reduce((a, b) => a + b, 0) / incumbentRates.length;
    for (
      let p = climb.next();
      p && !this.stopped && performance.now() - startedAt < this.o.maxTuningMs;
      p = climb.next()
    ) {
      if (!this.stillOurs(t)) return;
      const tried = await this.apply(t, p, 'tuner').then(
        () => true,
        (err: Error) => {
          climb.report(p!, 0, 1);
          t.view.trials.push({ configuration: describePoint(p!), ratio: 0, accepted: false });
          t.view.why = `${describePoint(p!)} could not start: ${err.message}`;
          return false;
        },
      );
      if (!tried) continue;
      const c1 = await this.busyWindow(t);
      const reference = referenceOf(incumbentWindows);
      let ratio = c1?.busy ? compare(c1, reference, refs) : 0;
      let latest = c1;
      if (c1?.busy && ratio >= this.o.minGain) {
        const c2 = await this.busyWindow(t);
        ratio = c2?.busy ? Math.min(ratio, compare(c2, reference, refs)) : 0;
        latest = c2;
      }
      const accepted = climb.report(p, ratio, 1);
      t.view.trials.push({ configuration: describePoint(p), ratio: round(ratio), accepted });
      if (accepted) {
        incumbentWindows = [c1!, latest!];
        incumbentRates = [c1!.rates.get(t.view.model) ?? 0, latest!.rates.get(t.view.model) ?? 0];
        t.view.throughput = meanRate();
        this.change(t, 'tuning', `${describePoint(p)} served ${round(ratio)}x the incumbent's score`);
        continue;
      }
      await this.apply(t, climb.incumbent, 'tuner').catch(() => {});
      if (!this.stillOurs(t)) return;
      if (!latest?.busy) {
        // The load fell away mid-trial: what was measured says nothing about the configuration.
        this.change(
          t,
          'default',
          'the load stopped keeping it busy during tuning: back to the best configuration so far; ' +
            'tuning resumes under load',
        );
        return;
      }
      const again = await this.busyWindow(t);
      if (!again?.busy) {
        this.change(
          t,
          'default',
          'the load stopped keeping it busy during tuning: back to the best configuration so far; ' +
            'tuning resumes under load',
        );
        return;
      }
      incumbentWindows.push(again);
      incumbentRates.push(again.rates.get(t.view.model) ?? 0);
      t.view.throughput = meanRate();
    }
    if (this.stopped || !this.stillOurs(t)) return;
    const tuningMs = performance.now() - startedAt;
    t.view.tuningMs = Math.round(tuningMs);
    const rate = t.view.throughput ?? 0;
    const moved = pointKey(climb.incumbent) !== pointKey(startPoint);
    const why = moved
      ? `settled after ${climb.trials.length} trials in ${(tuningMs / 1000).toFixed(1)} s: ` +
        `${rate.toFixed(1)} inf/s served (mean of ${incumbentRates.length} windows; ` +
        `${(rate / Math.max(startRate, 1e-9)).toFixed(2)}x the start's ${startRate.toFixed(1)})`
      : `settled after ${climb.trials.length} trials in ${(tuningMs / 1000).toFixed(1)} s: ` +
        'the start was already the best (no neighbour served 5% more); ' +
        `${rate.toFixed(1)} inf/s served (mean of ${incumbentRates.length} windows)`;
    const m = t.model;
    // Unmoved, the start's figure is one of the windows averaged into `rate`: the mean is the better estimate of both.
    if (!moved) t.view.startThroughput = rate;
    await this.o.memory
      ?.remember(m.name, m.file, {
        shapes: t.view.shapes ?? '{}',
        point: climb.incumbent,
        throughput: rate,
        startThroughput: moved ? startRate : rate,
        trials: climb.trials.length,
        tuningMs,
        tunedAt: new Date().toISOString(),
      })
      .catch((err: Error) => this.engine.log.warn({ model: m.name, err: err.message }, 'tuning not stored'));
    this.change(t, 'tuned', why);
  }

  /** True while the model is still served by the engine's choice (not placed by a user meanwhile). */
  private stillOurs(t: Tracked): boolean {
    this.refresh();
    return this.tracked.get(t.view.model) === t && t.view.state !== 'fixed';
  }

  private async apply(t: Tracked, p: TuningPoint, source: ServingDefaults['source']): Promise<void> {
    const m = this.engine.model(t.view.model);
    // A placement set meanwhile (no engine choice left on the model) is the user's word: never undone.
    if (!m.defaults) throw new Error('placed through PUT /v2/placement meanwhile');
    const batches = m.config.max_batch_size > 0;
    const config = {
      ...m.config,
      ...(t.space.tuneInstances
        ? {
            instance_group: [
              { count: p.instances, kind: 'KIND_CPU', host: 'thread', device: 'cpu', threads: p.threads },
            ],
          }
        : {}),
      ...(t.space.tuneBatching && m.config.dynamic_batching
        ? {
            dynamic_batching: {
              ...m.config.dynamic_batching,
              preferred_batch_size: [p.batch],
              max_queue_delay_microseconds: p.delayUs,
            },
          }
        : {}),
    };
    const what = describePoint(p, batches);
    await this.engine.reconfigure(t.view.model, config, {
      source,
      instances: t.space.tuneInstances ? describePoint(p, false) : null,
      batching: t.space.tuneBatching ? what.split(', ').slice(1).join(', ') : null,
      reasons: [
        `${what}: chosen by the live tuner (${source === 'stored' ? 'stored tuning' : 'trial or best so far'})`,
      ],
    });
    this.refresh();
    t.view.configuration = what;
  }

  /**
   * A window in which the load kept the model busy, trying up to three: a window with little
   * waiting in the engine can be the front end's turn (requests still being read on a saturated
   * main thread), not the clients going away.
   */
  private async busyWindow(t: Tracked): Promise<Window | null> {
    let w: Window | null = null;
    for (let i = 0; i < BUSY_TRIES && !this.stopped; i++) {
      w = await this.window(t);
      if (!w || w.busy) return w;
    }
    return w;
  }

  /** Counts every model's completions over a window, after the settle time, sampling whether `t`'s model was busy. */
  private async window(t: Tracked): Promise<Window | null> {
    await sleep(this.o.settleMs);
    if (this.stopped) return null;
    const before = completions(this.engine);
    const t0 = performance.now();
    let samples = 0;
    let busy = 0;
    while (performance.now() - t0 < this.o.windowMs && !this.stopped) {
      await sleep(SAMPLE_MS);
      const m = this.tracked.get(t.view.model)?.model;
      samples++;
      if (m && m.queued + m.inflight > 0) busy++;
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = completions(this.engine);
    const rates = new Map<string, number>();
    for (const [name, c] of after) {
      const b = before.get(name);
      if (b && sameModels(b.models, c.models)) rates.set(name, (c.count - b.count) / seconds);
    }
    const rate = rates.get(t.view.model) ?? 0;
    return { rates, busy: samples > 0 && busy / samples >= this.o.busyShare && rate > 0 };
  }

  private change(t: Tracked, state: TuningState, why: string): void {
    t.view.state = state;
    t.view.why = why;
    t.view.changedAt = new Date().toISOString();
    this.report(t);
  }

  /** Tells onChange and the subscribers what `t` serves now and why. */
  private report(t: Tracked): void {
    const { model, state, configuration, why } = t.view;
    this.engine.log.info({ model, state, configuration, why }, 'tuning');
    const view = structuredClone(t.view);
    this.o.onChange?.(view);
    for (const l of this.listeners) l(view);
  }

  private maxInstances(m: ModelView): number {
    const each = estimateInstanceBytes(m.file);
    const byMemory = each > 0 ? m.instances.length + Math.floor((os.freemem() * 0.5) / each) : Infinity;
    return Math.max(1, Math.min(byMemory, this.engine.cores * TUNING_LIMITS.threadsPerCoreOversubscription));
  }
}

/** Where a model serves now, as a tuning point. */
export function pointOf(m: ModelView): TuningPoint {
  const db = m.config.dynamic_batching;
  return {
    instances: Math.max(1, m.instances.length || m.config.instance_group.reduce((n, g) => n + g.count, 0)),
    threads: m.instances[0]?.threads ?? m.config.instance_group[0]?.threads ?? 1,
    batch: db ? (db.preferred_batch_size.at(-1) ?? m.config.max_batch_size) : 1,
    delayUs: db?.max_queue_delay_microseconds ?? 0,
  };
}

/** The incumbent's figure per model from its windows: the higher of their mean and the latest. */
function referenceOf(windows: Window[]): Window {
  const latest = windows[windows.length - 1];
  const rates = new Map<string, number>();
  for (const [name, rate] of latest.rates) {
    const seen = windows.flatMap((w) => (w.rates.has(name) ? [w.rates.get(name)!] : []));
    rates.set(name, Math.max(rate, seen.reduce((a, b) => a + b, 0) / seen.length));
  }
  return { rates, busy: latest.busy };
}

/**
 * A window's score against the incumbent's: total throughput, each model normalized by its rate at
 * the start, over the models active in both.
 */
function compare(c: Window, incumbent: Window, refs: Map<string, number>): number {
  let num = 0;
  let den = 0;
  for (const [name, rate] of incumbent.rates) {
    const ref = refs.get(name);
    const now = c.rates.get(name);
    if (!ref || now === undefined || rate <= 0) continue;
    num += now / ref;
    den += rate / ref;
  }
  return den > 0 ? num / den : 0;
}

/** Completed inferences per model name, with the model objects they came from (a reload restarts the count). */
function completions(engine: Engine): Map<string, { count: number; models: ModelView[] }> {
  const out = new Map<string, { count: number; models: ModelView[] }>();
  for (const m of engine.loaded()) {
    const e = out.get(m.name) ?? { count: 0, models: [] };
    e.count += m.completed;
    e.models.push(m);
    out.set(m.name, e);
  }
  return out;
}

const sameModels = (a: ModelView[], b: ModelView[]) => a.length === b.length && a.every((m, i) => m === b[i]);

const round = (x: number) => Math.round(x * 1000) / 1000;
