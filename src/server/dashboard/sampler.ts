/**
 * What the dashboard shows, sampled once a second from read-only views: the engine's statistics
 * (deltas of its cumulative counters), its models and instances (ModelView), its index (failed
 * models and why), the placement manager's view (entries, devices, tuner, controller), the CPU
 * per core and memory. The p50/p99 latency of the second comes from each model version's latency
 * histogram in the engine (ModelView.latency: every transport), as the difference of its
 * cumulative counts a second apart. Changes between two samples become timeline events with the
 * reason the source gives; the engine's own record of crashed instances (ModelView.crashes) gives
 * a crash's reason, and the live tuner pushes its changes as they happen (LiveTuner.subscribe).
 */
import os from 'node:os';
import {
  addWindow,
  quantileMs,
  BUCKETS,
  type Engine,
  type InstanceCrash,
  type LatencySnapshot,
  type ModelStatistics,
  type ModelTuning,
  type ModelView,
  type PlacementManager,
  type PlacementView,
} from '../../engine/index.js';

/** Samples kept: five minutes at one a second. */
export const HISTORY = 300;
/** Timeline events kept. */
export const TIMELINE = 200;
/** Tuner changes held between two samples (they come seconds apart; this bounds a burst). */
const PUSHED = 100;

export interface ModelSample {
  /** Inferences/s (a batch of n counts n), requests/s that succeeded, failed, were refused. */
  inferences: number;
  success: number;
  fail: number;
  refused: number;
  /** Mean ms per successful request over the second, all transports: queue and compute. */
  queueMs: number | null;
  computeMs: number | null;
  /**
   * Latency of the requests that succeeded in the second, in the engine (queue and compute, all
   * transports), ms, within 2.2% (latency-histogram.ts); null: none that second.
   */
  p50Ms: number | null;
  p99Ms: number | null;
  queued: number;
  inflight: number;
}

export interface Sample {
  t: number;
  /** Busy share of each core over the second, 0..1. */
  cpu: number[];
  memory: { totalBytes: number; freeBytes: number; rssBytes: number };
  models: Record<string, ModelSample>;
}

export interface InstanceRow {
  name: string;
  device: string;
  host: string;
  hostLabel: string;
  threads: number;
  state: string;
  reason: string;
  busy: boolean;
  memoryBytes: number | null;
}

export interface ModelRow {
  name: string;
  version: string;
  /** READY, LOADING, UNAVAILABLE, UNLOADING (the repository index's words). */
  state: string;
  reason: string;
  instances: InstanceRow[];
  threads: number;
  batching: { maxBatchSize: number; preferred: number[]; delayMs: number } | null;
  maxBatchSize: number;
  /** The queue's limit (0: none), or null with priority levels (one limit each). */
  queueLimit: number | null;
  queued: number;
  queueFull: boolean;
  /** An instance is starting while the model serves: a replacement after a crash, or a move. */
  restarting: boolean;
  /** The model's last instance crash the engine recorded (ModelView.crashes), with the host's reason. */
  lastCrash: { t: number; instance: string; reason: string } | null;
  tuning: { state: string; configuration: string; why: string; changedAt: string } | null;
  source: string | null;
}

export interface TimelineEvent {
  t: number;
  kind: 'placement' | 'tuning' | 'model' | 'instance' | 'controller';
  model: string | null;
  text: string;
  reason: string;
}

export interface DashboardState {
  now: number;
  cores: number;
  mode: PlacementView['mode'] | null;
  models: ModelRow[];
  devices: { device: string; description: string; cores: number; memoryBytes: number | null; simulated: boolean }[];
  placement: { model: string; device: string; instances: number; threads: number }[];
}

/** What a viewer gets each second: the new sample, the state now, and the events since the last. */
export interface Update {
  sample: Sample;
  state: DashboardState;
  events: TimelineEvent[];
}

/** What a viewer gets first: the history and timeline kept so far, and the state now. */
export interface Snapshot {
  history: Sample[];
  timeline: TimelineEvent[];
  state: DashboardState;
}

interface Prev {
  /** The loaded versions by name, and what each had counted: latency, crashes (the last seq seen). */
  versions: Map<string, readonly ModelView[]>;
  latency: Map<ModelView, LatencySnapshot>;
  crashSeq: Map<ModelView, number>;
  stats: Map<string, ModelStatistics>;
  received: Map<string, number>;
  pending: Map<string, number>;
  cpu: { idle: number; total: number }[];
  at: number;
  placement: Map<string, string>;
  instances: Map<string, Set<string>>;
  modelStates: Map<string, string>;
  controllerAt: number | null;
}

export class DashboardSampler {
  private readonly history: Sample[] = [];
  private readonly timeline: TimelineEvent[] = [];
  private readonly viewers = new Set<(u: Update) => void>();
  /** The live tuner's changes since the last sample, as it pushed them. */
  private pushed: TimelineEvent[] = [];
  private unsubscribe: (() => void) | null = null;
  /** Writes through the HTTP API running now, and those that ended since the last tick (the reasons for changes). */
  private readonly running = new Map<string, Write>();
  private ended: Write[] = [];
  private timer: NodeJS.Timeout | null = null;
  private prev: Prev | null = null;
  private current: DashboardState | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly placement: PlacementManager | undefined,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.prev = this.read();
    this.unsubscribe = this.placement?.tuner?.subscribe((t) => this.tuned(t)) ?? null;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** A change the live tuner reports: into the timeline at the next sample, with its own time and reason. */
  private tuned(t: ModelTuning): void {
    if (this.pushed.length >= PUSHED) this.pushed.shift();
    const at = Date.parse(t.changedAt);
    this.pushed.push({
      t: Number.isFinite(at) ? at : Date.now(),
      kind: 'tuning',
      model: t.model,
      text: `${t.state}: ${t.configuration}`,
      reason: t.why,
    });
  }

  /** A write through the HTTP API (placement, repository) began: the reason of the changes it makes. */
  writeStarted(id: string, method: string, path: string): void {
    if (this.running.size < 100) this.running.set(id, { method, path, status: 0 });
  }

  writeEnded(id: string, status: number): void {
    const w = this.running.get(id);
    if (!w) return;
    this.running.delete(id);
    if (this.ended.length < 100) this.ended.push({ ...w, status });
  }

  snapshot(): Snapshot {
    return { history: [...this.history], timeline: [...this.timeline], state: this.current ?? this.stateNow() };
  }

  /** Calls `viewer` once a second with each update until the returned function is called. */
  subscribe(viewer: (u: Update) => void): () => void {
    this.viewers.add(viewer);
    return () => this.viewers.delete(viewer);
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** One sample; public so that tests need not wait for the clock. */
  tick(): Update {
    const prev = this.prev ?? this.read();
    const next = this.read();
    const state = this.stateNow(next.view);
    const sample = this.sample(prev, next, state);
    const events = this.changes(prev, next, state);
    this.prev = next;
    this.current = state;
    this.history.push(sample);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    this.timeline.push(...events);
    if (this.timeline.length > TIMELINE) this.timeline.splice(0, this.timeline.length - TIMELINE);
    const update = { sample, state, events };
    for (const v of this.viewers) v(update);
    return update;
  }

  private read(): Prev & { view: PlacementView | null } {
    const view = this.placement?.view() ?? null;
    const loaded = this.engine.loaded();
    const placement = new Map<string, string>();
    for (const e of view?.entries ?? []) {
      const text = `${e.device}: ${e.instances} x ${e.threads} thread${e.threads === 1 ? '' : 's'}`;
      placement.set(e.model, placement.has(e.model) ? `${placement.get(e.model)}, ${text}` : text);
    }
    const instances = new Map<string, Set<string>>();
    const versions = new Map<string, ModelView[]>();
    const latency = new Map<ModelView, LatencySnapshot>();
    const crashSeq = new Map<ModelView, number>();
    const pending = new Map<string, number>();
    for (const m of loaded) {
      const set = instances.get(m.name) ?? new Set<string>();
      for (const i of m.instances) set.add(i.name);
      instances.set(m.name, set);
      versions.set(m.name, [...(versions.get(m.name) ?? []), m]);
      latency.set(m, m.latency.snapshot());
      crashSeq.set(m, m.crashes.at(-1)?.seq ?? 0);
      pending.set(m.name, (pending.get(m.name) ?? 0) + m.queued + m.inflight);
    }
    return {
      view,
      versions,
      latency,
      crashSeq,
      stats: new Map(this.engine.stats().map((s) => [`${s.name}/${s.version}`, s])),
      received: this.engine.arrivals(),
      pending,
      cpu: os.cpus().map((c) => ({
        idle: c.times.idle,
        total: c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle,
      })),
      at: Date.now(),
      placement,
      instances,
      modelStates: new Map(this.engine.index().map((r) => [r.name, `${r.state}\u0000${r.reason}`])),
      controllerAt: view?.controller?.lastAppliedAt ?? null,
    };
  }

  private sample(prev: Prev, next: Prev, state: DashboardState): Sample {
    const seconds = Math.max(0.001, (next.at - prev.at) / 1000);
    const cpu = next.cpu.map((c, i) => {
      const p = prev.cpu[i] ?? { idle: 0, total: 0 };
      const total = c.total - p.total;
      return total > 0 ? Math.min(1, Math.max(0, (total - (c.idle - p.idle)) / total)) : 0;
    });
    const models: Record<string, ModelSample> = {};
    for (const row of state.models) {
      let inferences = 0;
      let success = 0;
      let fail = 0;
      let queueNs = 0;
      let computeNs = 0;
      for (const [key, s] of next.stats) {
        if (s.name !== row.name) continue;
        const p = prev.stats.get(key);
        const st = s.inference_stats;
        const ps = p?.inference_stats;
        inferences += s.inference_count - (p?.inference_count ?? 0);
        success += st.success.count - (ps?.success.count ?? 0);
        fail += st.fail.count - (ps?.fail.count ?? 0);
        queueNs += st.queue.ns - (ps?.queue.ns ?? 0);
        computeNs +=
          st.compute_input.ns +
          st.compute_infer.ns +
          st.compute_output.ns -
          ((ps?.compute_input.ns ?? 0) + (ps?.compute_infer.ns ?? 0) + (ps?.compute_output.ns ?? 0));
      }
      // Received but neither settled nor waiting: refused at the door (queue full, bad input, not ready).
      const received = (next.received.get(row.name) ?? 0) - (prev.received.get(row.name) ?? 0);
      const pendingDelta = (next.pending.get(row.name) ?? 0) - (prev.pending.get(row.name) ?? 0);
      const refused = Math.max(0, received - success - fail - pendingDelta);
      // The second's latency distribution: each version's cumulative counts now less a second ago.
      const window = new Float64Array(BUCKETS);
      let timed = 0;
      for (const m of next.versions.get(row.name) ?? [])
        timed += addWindow(window, next.latency.get(m)!, prev.latency.get(m) ?? null);
      const p50 = quantileMs(window, timed, 0.5);
      const p99 = quantileMs(window, timed, 0.99);
      models[row.name] = {
        inferences: round(inferences / seconds),
        success: round(success / seconds),
        fail: round(fail / seconds),
        refused: round(refused / seconds),
        queueMs: success > 0 ? round(queueNs / success / 1e6) : null,
        computeMs: success > 0 ? round(computeNs / success / 1e6) : null,
        p50Ms: p50 === null ? null : round(p50),
        p99Ms: p99 === null ? null : round(p99),
        queued: row.queued,
        inflight: (next.versions.get(row.name) ?? []).reduce((n, m) => n + m.inflight, 0),
      };
    }
    return {
      t: next.at,
      cpu,
      memory: { totalBytes: os.totalmem(), freeBytes: os.freemem(), rssBytes: process.memoryUsage.rss() },
      models,
    };
  }

  private stateNow(view: PlacementView | null = this.placement?.view() ?? null): DashboardState {
    const loaded = this.engine.loaded();
    const byName = new Map<string, ModelView[]>();
    for (const m of loaded) byName.set(m.name, [...(byName.get(m.name) ?? []), m]);
    const configs = new Map((view?.models ?? []).map((m) => [m.model, m]));
    const models: ModelRow[] = [];
    const seen = new Set<string>();
    const index = this.engine.index();
    for (const r of index) {
      if (seen.has(r.name)) continue;
      seen.add(r.name);
      const versions = byName.get(r.name) ?? [];
      const rows = index.filter((x) => x.name === r.name);
      // The worst state of its versions is the one to see.
      const bad = rows.find((x) => x.state !== 'READY') ?? rows[0];
      const newest = versions[0];
      const instances: InstanceRow[] = versions.flatMap((m) =>
        m.instances.map((i) => ({
          name: i.name,
          device: i.device,
          host: i.hostKind,
          hostLabel: i.hostLabel,
          threads: i.threads,
          state: i.state,
          reason: i.reason,
          busy: i.busy,
          memoryBytes: i.memoryBytes ?? null,
        })),
      );
      const queued = versions.reduce((n, m) => n + m.queued, 0);
      let crash: InstanceCrash | null = null;
      for (const m of versions) {
        const c = m.crashes.at(-1);
        if (c && (!crash || c.at > crash.at)) crash = c;
      }
      const queueLimit = newest ? limitOf(newest) : null;
      const cfg = configs.get(r.name);
      const db = newest?.config.dynamic_batching;
      models.push({
        name: r.name,
        version: rows.map((x) => x.version).join(', '),
        state: bad.state,
        reason: bad.reason,
        instances,
        threads: instances.reduce((n, i) => n + i.threads, 0),
        batching: db
          ? {
              maxBatchSize: newest.config.max_batch_size,
              preferred: [...db.preferred_batch_size],
              delayMs: db.max_queue_delay_microseconds / 1000,
            }
          : null,
        maxBatchSize: newest?.config.max_batch_size ?? 0,
        queueLimit,
        queued,
        queueFull: queueLimit !== null && queueLimit > 0 && queued >= queueLimit,
        restarting: bad.state === 'READY' && instances.some((i) => i.state === 'loading' || i.state === 'warming'),
        lastCrash: crash && { t: crash.at, instance: crash.instance, reason: crash.reason },
        tuning: cfg?.tuning
          ? {
              state: cfg.tuning.state,
              configuration: cfg.tuning.configuration,
              why: cfg.tuning.why,
              changedAt: cfg.tuning.changedAt,
            }
          : null,
        source: cfg?.source ?? null,
      });
    }
    return {
      now: Date.now(),
      cores: this.engine.cores,
      mode: view?.mode ?? null,
      models,
      devices: (view?.devices ?? []).map((d) => ({
        device: d.device,
        description: d.description,
        cores: d.cores,
        memoryBytes: Number.isFinite(d.memoryBytes) ? d.memoryBytes : null,
        simulated: d.simulated,
      })),
      placement: (view?.entries ?? []).map((e) => ({
        model: e.model,
        device: e.device,
        instances: e.instances,
        threads: e.threads,
      })),
    };
  }

  /** What changed since the last sample, each with the reason its source gives. */
  private changes(prev: Prev, next: Prev & { view: PlacementView | null }, state: DashboardState): TimelineEvent[] {
    const t = next.at;
    const events: TimelineEvent[] = [];
    const writes = [...this.ended, ...this.running.values()];
    this.ended = [];
    const written = (model: string) =>
      writes.find(
        (w) => w.status < 300 && (w.path === '/v2/placement' || w.path.startsWith(`/v2/repository/models/${model}/`)),
      );
    for (const [model, key] of next.modelStates) {
      const before = prev.modelStates.get(model);
      if (before === key) continue;
      const [st, reason] = key.split('\u0000');
      const was = before?.split('\u0000')[0];
      events.push({
        t,
        kind: 'model',
        model,
        text: was ? `${was} -> ${st}` : st,
        reason: reason || (written(model) ? describeWrite(written(model)!) : ''),
      });
    }
    // The tuner's changes since the last sample, as it pushed them (each at its own time).
    const tunerChanged = new Set<string>();
    for (const e of this.pushed) {
      events.push(e);
      if (e.model) tunerChanged.add(e.model);
    }
    this.pushed = [];
    const tuning = new Map((next.view?.models ?? []).map((m) => [m.model, m.tuning]));
    const controller = next.view?.controller;
    const controllerMoved = controller && controller.lastAppliedAt !== prev.controllerAt;
    if (controllerMoved && controller.lastPlan)
      events.push({
        t,
        kind: 'controller',
        model: null,
        text: `re-planned (${controller.lastPlan.method})`,
        reason: controller.lastPlan.reasons.join('; '),
      });
    for (const [model, now] of next.placement) {
      const before = prev.placement.get(model);
      if (before === undefined || before === now) continue;
      const w = written(model);
      const tu = tuning.get(model);
      const tunerMoved = tu && tunerChanged.has(model);
      const reason = w
        ? describeWrite(w)
        : tunerMoved
          ? `live tuner: ${tu.why}`
          : controllerMoved
            ? 'placement controller (auto mode)'
            : tu?.state === 'tuning'
              ? 'live tuner: trying a neighbouring configuration'
              : 'instance groups changed';
      events.push({ t, kind: 'placement', model, text: `${before} -> ${now}`, reason });
    }
    for (const [model, names] of next.instances) {
      const before = prev.instances.get(model) ?? new Set<string>();
      const row = state.models.find((m) => m.name === model);
      const stateOf = (name: string) => row?.instances.find((i) => i.name === name)?.state ?? 'gone';
      // Instances that joined since the last sample, not yet claimed as a crash's replacement.
      const added = [...names].filter((n) => !before.has(n));
      // The crashes the engine recorded since the last sample, with the host's reason.
      for (const m of next.versions.get(model) ?? []) {
        const seen = prev.crashSeq.get(m) ?? 0;
        for (const c of m.crashes) {
          if (c.seq <= seen) continue;
          // Its replacement (or the next try, after one that did not start) joined in the same call.
          const by = added.shift();
          const then = by ? `replacement ${by} ${stateOf(by)}` : 'no replacement';
          events.push({
            t: c.at,
            kind: 'instance',
            model,
            text:
              c.kind === 'crash'
                ? `${c.instance} crashed; ${then}`
                : `${c.instance}'s replacement did not start; ${by ? `trying again: ${then}` : then}`,
            reason: c.reason,
          });
        }
      }
      // Replaced with no crash and no placement change: the model was loaded again (same placement).
      const gone = [...before].filter((n) => !names.has(n));
      const reloaded = !sameViews(prev.versions.get(model), next.versions.get(model));
      const moved = prev.placement.get(model) !== next.placement.get(model) || written(model);
      if (gone.length && prev.versions.has(model) && reloaded && !moved) {
        const joined = added.map((n) => `${n} ${stateOf(n)}`).join(', ');
        events.push({
          t,
          kind: 'instance',
          model,
          text: `${gone.join(', ')} left the pool${joined ? `; ${joined}` : ''}`,
          reason: 'the model was loaded again with the same placement (no crash)',
        });
      }
    }
    for (const row of state.models)
      for (const i of row.instances)
        if (i.state === 'failed' && !this.timeline.some((e) => e.kind === 'instance' && e.text.includes(i.name)))
          events.push({ t, kind: 'instance', model: row.name, text: `${i.name} failed`, reason: i.reason });
    // Oldest first: the tuner's changes and the crashes carry their own times, earlier than the sample's.
    return events.sort((a, b) => a.t - b.t);
  }
}

const sameViews = (a: readonly ModelView[] = [], b: readonly ModelView[] = []) =>
  a.length === b.length && a.every((m, i) => m === b[i]);

interface Write {
  method: string;
  path: string;
  /** 0 while it runs. */
  status: number;
}

function describeWrite(w: Write): string {
  return `${w.method} ${w.path}${w.status === 0 ? ' (in progress)' : ''}`;
}

/** The queue limit of a model version: one limit without priority levels, null with them (one each). */
function limitOf(m: ModelView): number | null {
  const db = m.config.dynamic_batching;
  if (db && db.priority_levels > 0) return null;
  return (db?.default_queue_policy ?? m.config.queue_policy).max_queue_size;
}

const round = (x: number) => Math.round(x * 100) / 100;
