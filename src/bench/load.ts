/**
 * Load generators, after perf_analyzer: a closed loop keeps `concurrency` requests outstanding
 * (each one sends its next request as soon as its last one returns; closed-loop.ts); an open loop
 * sends requests at their scheduled times (constant or Poisson arrivals) whatever the answers, so
 * queueing shows. Each completion is recorded with its latency; the measurement cuts the records
 * into windows.
 */
import { errors } from '../errors.js';
import { arrivalTimes, type ArrivalDistribution } from './arrivals.js';
import { checkConcurrency, runClosedLoop, timeRequest, type Completion } from './closed-loop.js';
import type { InputSource } from './inputs.js';
import type { Target } from './target.js';

export type { Completion };

export type LoadSpec =
  | { mode: 'concurrency'; concurrency: number }
  | { mode: 'rate'; rate: number; distribution: ArrivalDistribution; seed?: number };

/** An open loop never lets more than this many requests pile up: beyond it, sends are delayed. */
export const MAX_OUTSTANDING = 4096;
/** A request sent more than this late (ms) counts as delayed, as perf_analyzer's "delayed requests". */
const LATE_MS = 1;

export function describeLoad(load: LoadSpec): string {
  return load.mode === 'concurrency' ? `concurrency ${load.concurrency}` : `${load.rate} req/s ${load.distribution}`;
}

export function checkLoad(load: LoadSpec): void {
  if (load.mode === 'concurrency') checkConcurrency(load.concurrency);
  if (load.mode === 'rate' && !(load.rate > 0))
    throw errors.invalidArg(`request rate must be a number > 0 (requests/s), got ${load.rate}`);
}

/** Drives one model with one load until stopped. */
export class LoadGenerator {
  private records: Completion[] = [];
  private stopped = false;
  private outstanding = 0;
  private running: Promise<void> = Promise.resolve();
  private slotFreed: (() => void) | null = null;
  /** Requests sent, failed and sent late since the start. */
  sent = 0;
  failed = 0;
  delayed = 0;
  firstError: string | null = null;

  constructor(
    private readonly target: Target,
    readonly model: string,
    readonly load: LoadSpec,
    readonly inputs: InputSource,
  ) {
    checkLoad(load);
  }

  start(): void {
    this.running = this.load.mode === 'concurrency' ? this.closedLoop(this.load.concurrency) : this.openLoop(this.load);
  }

  /** The completions since the last call. */
  take(): Completion[] {
    const r = this.records;
    this.records = [];
    return r;
  }

  /** Stops sending and waits for the outstanding requests. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.slotFreed?.();
    await this.running;
  }

  /** One request of this generator's model, counted as sent. */
  private request(): Promise<unknown> {
    this.sent++;
    return this.target.infer(this.model, this.inputs.next());
  }

  private record(completion: Completion, error?: unknown): void {
    if (!completion.ok) {
      this.failed++;
      this.firstError ??= (error as Error).message;
    }
    this.records.push(completion);
  }

  private async closedLoop(concurrency: number): Promise<void> {
    await runClosedLoop(() => this.request(), {
      concurrency,
      until: () => this.stopped,
      onCompletion: (c, error) => this.record(c, error),
      keepLatencies: false,
    });
  }

  private async send(): Promise<void> {
    this.outstanding++;
    const { completion, error } = await timeRequest(() => this.request());
    this.outstanding--;
    this.slotFreed?.();
    this.record(completion, error);
  }

  private async openLoop(load: Extract<LoadSpec, { mode: 'rate' }>): Promise<void> {
    const times = arrivalTimes({ rate: load.rate, distribution: load.distribution, seed: load.seed });
    const start = performance.now();
    const inflight = new Set<Promise<void>>();
    let next = times.next().value;
    while (!this.stopped) {
      const now = performance.now() - start;
      if (next > now) {
        await new Promise((r) => setTimeout(r, Math.max(0, next - now)));
        continue;
      }
      if (this.outstanding >= MAX_OUTSTANDING) {
        await new Promise<void>((r) => (this.slotFreed = r));
        this.slotFreed = null;
        continue;
      }
      if (now - next > LATE_MS) this.delayed++;
      const p = this.send();
      inflight.add(p);
      void p.then(() => inflight.delete(p));
      next = times.next().value;
    }
    await Promise.all(inflight);
  }
}
