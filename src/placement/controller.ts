/**
 * The controller: applies placements live and re-plans when the load shifts. It watches each
 * model's arrivals over a sliding window, turns them into demand (weights = share of arrivals),
 * and re-plans with the planner when the shares moved by more than a threshold since the last
 * plan (hysteresis: and at least a cool-down after the last change, and only for a plan that is
 * clearly better than the current one), then applies it through the target: new instances start,
 * warm and join before the old ones drain and stop, so no request is lost.
 *
 * It never imports the engine: the engine hands it the narrow PlacementTarget below.
 */
import { plan as planPlacement } from './planner.js';
import type { DeviceCapacity, Demand, ModelProfile, PlacementEntry, Plan } from './types.js';

export interface PlacementTarget {
  /** Models to place (the loaded ones). */
  models(): string[];
  /** Requests received so far per model (a counter; the controller takes differences). */
  arrivals(): Map<string, number>;
  /** Requests waiting per model now. */
  queued(): Map<string, number>;
  current(): PlacementEntry[];
  apply(entries: PlacementEntry[]): Promise<void>;
}

export interface ControllerOptions {
  profiles: () => ModelProfile[];
  devices: () => DeviceCapacity[];
  /** How to plan; default plan() over devices(). (The engine passes one that knows overlapping core sets.) */
  planner?: (profiles: ModelProfile[], demand: Demand[]) => Plan;
  /** Sliding window for arrival rates, ms. Default 5000. */
  windowMs?: number;
  /** How often to look, ms. Default 1000. */
  intervalMs?: number;
  /** Re-plan when a model's share of arrivals moved by more than this since the last plan. Default 0.2. */
  shareThreshold?: number;
  /** No new placement sooner than this after the last one, ms. Default 10000. */
  cooldownMs?: number;
  /** Apply a new plan only when its expected weighted throughput beats the current one by this factor. Default 1.05. */
  minGain?: number;
  /** Every model keeps at least this weight, so an idle model keeps an instance. Default 0.02. */
  floorShare?: number;
  onPlan?: (plan: Plan, applied: boolean) => void;
}

export interface ControllerStatus {
  mode: 'auto';
  shares: Record<string, number>;
  ratesPerSecond: Record<string, number>;
  lastPlan: Plan | null;
  lastAppliedAt: number | null;
  lastError: string | null;
}

export class Controller {
  private samples: { at: number; arrivals: Map<string, number> }[] = [];
  private planShares: Map<string, number> | null = null;
  private lastAppliedAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private status: ControllerStatus = {
    mode: 'auto',
    shares: {},
    ratesPerSecond: {},
    lastPlan: null,
    lastAppliedAt: null,
    lastError: null,
  };
  private readonly o: Required<Omit<ControllerOptions, 'onPlan' | 'planner'>> &
    Pick<ControllerOptions, 'onPlan' | 'planner'>;

  constructor(
    private readonly target: PlacementTarget,
    options: ControllerOptions,
  ) {
    this.o = {
      windowMs: 5000,
      intervalMs: 1000,
      shareThreshold: 0.2,
      cooldownMs: 10_000,
      minGain: 1.05,
      floorShare: 0.02,
      ...options,
    };
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  snapshot(): ControllerStatus {
    return structuredClone(this.status);
  }

  /** One look at the load; public so tests can drive the clock. */
  async tick(now = performance.now()): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      this.sample(now);
      const rates = this.rates();
      if (!rates) return;
      const shares = sharesOf(rates, this.target.queued(), this.o.floorShare);
      this.status.shares = Object.fromEntries(shares);
      this.status.ratesPerSecond = Object.fromEntries(rates);
      if (!this.shifted(shares) || now - this.lastAppliedAt < this.o.cooldownMs) return;
      await this.replan(shares, now);
    } catch (err) {
      this.status.lastError = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }

  private sample(now: number): void {
    this.samples.push({ at: now, arrivals: this.target.arrivals() });
    while (this.samples.length > 2 && now - this.samples[1].at >= this.o.windowMs) this.samples.shift();
  }

  /** Arrivals per second over the window; null until the window has two samples. */
  private rates(): Map<string, number> | null {
    if (this.samples.length < 2) return null;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const seconds = (last.at - first.at) / 1000;
    if (seconds <= 0) return null;
    const out = new Map<string, number>();
    for (const m of this.target.models())
      out.set(m, ((last.arrivals.get(m) ?? 0) - (first.arrivals.get(m) ?? 0)) / seconds);
    return out;
  }

  private shifted(shares: Map<string, number>): boolean {
    if (!this.planShares) return true;
    for (const [m, s] of shares) if (Math.abs(s - (this.planShares.get(m) ?? 0)) > this.o.shareThreshold) return true;
    return false;
  }

  private async replan(shares: Map<string, number>, now: number): Promise<void> {
    const demand: Demand[] = [...shares].map(([model, weight]) => ({ model, weight }));
    const next = this.o.planner
      ? this.o.planner(this.o.profiles(), demand)
      : planPlacement(this.o.profiles(), this.o.devices(), demand);
    const currentValue = expectedValue(this.target.current(), this.o.profiles(), demand);
    const better =
      next.objective > currentValue * this.o.minGain && !samePlacement(next.entries, this.target.current());
    this.status.lastPlan = next;
    this.planShares = shares;
    this.o.onPlan?.(next, better);
    if (!better) return;
    await this.target.apply(next.entries);
    this.lastAppliedAt = now;
    this.status.lastAppliedAt = Date.now();
  }
}

/** Demand weights: each model's share of the arrivals (plus what waits), with a floor for idle models. */
export function sharesOf(rates: Map<string, number>, queued: Map<string, number>, floor: number): Map<string, number> {
  const raw = new Map<string, number>();
  for (const [m, r] of rates) raw.set(m, r + (queued.get(m) ?? 0));
  const total = [...raw.values()].reduce((a, b) => a + b, 0);
  const out = new Map<string, number>();
  for (const [m, v] of raw) out.set(m, total > 0 ? Math.max(floor, v / total) : 1 / raw.size);
  return out;
}

/** What a placement is worth under a demand, by the same profiles the planner uses. */
export function expectedValue(entries: PlacementEntry[], profiles: ModelProfile[], demand: Demand[]): number {
  let total = 0;
  for (const d of demand) {
    let rate = 0;
    for (const e of entries.filter((x) => x.model === d.model)) {
      const p = profiles
        .find((x) => x.model === e.model && x.device === e.device)
        ?.points.find((pt) => pt.instances === e.instances && pt.threads === e.threads);
      rate += p?.throughput ?? 0;
    }
    total += (d.weight ?? 1) * Math.min(rate, d.targetRate ?? Infinity);
  }
  return total;
}

function samePlacement(a: PlacementEntry[], b: PlacementEntry[]): boolean {
  const key = (l: PlacementEntry[]) =>
    l
      .map((e) => `${e.model}@${e.device}:${e.instances}x${e.threads}`)
      .sort()
      .join('|');
  return key(a) === key(b);
}
