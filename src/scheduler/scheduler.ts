/**
 * One model version's scheduler: a bounded priority queue in front of its instances. Without
 * dynamic batching each free instance takes the next request; with it, a free instance takes the
 * next batch that form-batch.ts forms, waiting at most max_queue_delay for a fuller one.
 * When every instance is busy, each may be sent one more run ahead (pipeline depth 2): it waits in
 * the host and starts the moment the current one ends, so the session does not sit idle while the
 * result travels back and the next request travels in. A run ahead takes only a full batch (a
 * partial one waits for an instance to free up, as before), so pipelining never shrinks batches.
 * Deadlines and cancellation end a request wherever it is: a queued one leaves the queue (and
 * never takes a batch slot), a running one gets its error now and its late result is dropped.
 * When an instance crashes only its own requests fail; the rest wait for the other instances.
 */
import { errors, isTenancyError, RunNotStartedError, type TenancyError } from '../errors.js';
import type { InferenceRequest } from '../engine/request.js';
import type { RunResult } from '../runtime/index.js';
import type { TensorMap } from '../tensor.js';
import { RequestQueue } from './request-queue.js';
import { DeadlineTimer, realClock, type Clock } from './deadline-timer.js';
import { pickInstance, type Pickable } from './pick-instance.js';
import { formBatch, type BatchPolicy } from './form-batch.js';
import { exactCopies, mergeInputs, ownedBuffers, splitOutputs } from './batch-tensors.js';

/**
 * What the scheduler uses of an instance (runtime's ModelInstance is one): its state, its runs in
 * flight and idle time (pick-instance.ts), and run(), which counts the run in `inflight` from the
 * call until it settles, and rejects with RunNotStartedError for a run its host never started.
 */
export interface SchedulerInstance extends Pickable {
  readonly name: string;
  run(inputs: TensorMap, outputs?: string[], transfer?: ArrayBuffer[]): Promise<RunResult>;
}

export interface SchedulerHooks {
  /** Once per request when it ends, with its result (its own rows) or error. */
  settled(req: InferenceRequest, result: RunResult | null, error: TenancyError | null, instance: string): void;
  /** Once per execution on an instance, with the rows it ran. */
  executed(rows: number, result: RunResult): void;
}

export interface LevelPolicy {
  /** 0 = unbounded. */
  maxQueueSize: number;
  timeoutAction: 'REJECT' | 'DELAY';
}

export interface SchedulerOptions {
  model: string;
  /** Queue policy per priority level, index 0 served first. */
  levels: LevelPolicy[];
  /** Present: merge requests into batches. Absent: one request per execution. */
  batching?: BatchPolicy & { preserveOrdering: boolean };
  /** Most runs sent to one instance at a time; 1 = none ahead. Default 2. */
  pipelineDepth?: number;
  /** Time and timers; default the real ones. Only tests give another (deadline-timer.ts). */
  clock?: Clock;
}

const DEFAULT_PIPELINE_DEPTH = 2;

interface Tracked extends InferenceRequest {
  queued: boolean;
  timer?: DeadlineTimer;
  onAbort?: () => void;
  /** With preserve_ordering: the outcome, held until every earlier request has its own. */
  outcome?: { result: RunResult | null; error: TenancyError | null; instance: string };
}

export class Scheduler {
  private readonly queue: RequestQueue<Tracked>;
  private running = 0;
  private idleWaiters: (() => void)[] = [];
  private delayTimer: DeadlineTimer | null = null;
  private delayUntil = Infinity;
  /** Requests received up to this moment no longer wait for fuller batches (flush()). */
  private flushBefore = -Infinity;
  private ordered: (Tracked | undefined)[] = [];
  private orderedHead = 0;
  private readonly clock: Clock;

  constructor(
    private options: SchedulerOptions,
    private readonly instances: () => readonly SchedulerInstance[],
    private readonly hooks: SchedulerHooks,
  ) {
    this.clock = options.clock ?? realClock;
    // The last level holds requests whose deadline passed under timeout_action DELAY: served after all others.
    this.queue = new RequestQueue([...options.levels.map((l) => l.maxQueueSize), 0]);
  }

  get queued(): number {
    return this.queue.size;
  }

  /**
   * Changes the batch sizes and queue delay in place (the tuner's and placement's moves): the
   * next batch is formed with them. Batching cannot be turned on or off here (requests carry a
   * batch key only when the model batches), nor ordering changed.
   */
  setBatching(batching: SchedulerOptions['batching']): void {
    if (!batching || !this.options.batching) return;
    this.options = {
      ...this.options,
      batching: { ...batching, preserveOrdering: this.options.batching.preserveOrdering },
    };
    this.dispatch();
  }

  get inflight(): number {
    return this.running;
  }

  /** Accepts a request or throws QUEUE_FULL; the request's own promise carries its outcome. */
  enqueue(request: InferenceRequest): void {
    const req = request as Tracked;
    const model = this.options.model;
    if (this.queue.isFull(req.level)) throw errors.queueFull(model, this.queue.limit(req.level));
    if (req.signal?.aborted) throw errors.cancelled(model);
    this.queue.push(req, req.level);
    if (this.options.batching?.preserveOrdering) this.ordered.push(req);
    if (Number.isFinite(req.deadline)) {
      req.timer = new DeadlineTimer(req.deadline, this.clock, () => this.onDeadline(req));
    }
    if (req.signal) {
      req.onAbort = () => this.end(req, errors.cancelled(model));
      req.signal.addEventListener('abort', req.onAbort, { once: true });
    }
    this.dispatch();
  }

  /** Gives waiting requests to idle ready instances. Call when an instance becomes ready. */
  dispatch(): void {
    const depth = this.options.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH;
    while (this.queue.size > 0) {
      const instance = pickInstance(this.instances(), depth);
      if (!instance) return;
      const batch = this.nextBatch(instance.inflight > 0);
      if (!batch) return;
      for (const r of batch) this.queue.remove(r);
      void this.execute(instance, batch);
    }
    this.clearDelayIfEmpty();
  }

  /**
   * Sends the partial batches waiting now without waiting for fuller ones: on unload or shutdown
   * nothing more is coming to fill them, and max_queue_delay would only hold the drain up.
   * Requests that arrive later wait as usual.
   */
  flush(): void {
    this.flushBefore = this.clock.now();
    this.dispatch();
  }

  /** `ahead`: for an instance that is busy; only a full batch goes there. */
  private nextBatch(ahead: boolean): Tracked[] | null {
    const policy = this.options.batching;
    if (!policy) {
      for (const next of this.queue.waiting()) return [next];
      return null;
    }
    let head: Tracked | undefined;
    for (const next of this.queue.waiting()) {
      head = next;
      break;
    }
    const flushing = head !== undefined && head.receivedAt <= this.flushBefore;
    const decision = formBatch(this.queue.waiting(), flushing ? { ...policy, delayMs: 0 } : policy, this.clock.now());
    if (!decision) return null;
    if ('send' in decision) return decision.full || !ahead ? decision.send : null;
    this.wakeAt(decision.waitUntil);
    return null;
  }

  /** One timer for the earliest moment a partial batch must go. */
  private wakeAt(at: number): void {
    if (this.delayTimer && at >= this.delayUntil) return;
    this.delayTimer?.clear();
    this.delayUntil = at;
    this.delayTimer = new DeadlineTimer(at, this.clock, () => {
      this.delayTimer = null;
      this.delayUntil = Infinity;
      this.dispatch();
    });
  }

  /** Nothing waits: a pending partial-batch timer has nothing left to send (and would keep the process alive). */
  private clearDelayIfEmpty(): void {
    if (this.queue.size > 0 || !this.delayTimer) return;
    this.delayTimer.clear();
    this.delayTimer = null;
    this.delayUntil = Infinity;
  }

  private async execute(instance: SchedulerInstance, batch: Tracked[]): Promise<void> {
    this.running += batch.length;
    const dispatchedAt = this.clock.now();
    for (const r of batch) r.dispatchedAt = dispatchedAt;
    try {
      // Exactly one copy of the inputs goes to the instance, and is moved there (not cloned): a merged
      // batch is already a fresh copy; a single request's tensors are copied to exact-size buffers,
      // because cloning a view would clone its whole underlying buffer (an HTTP body, a gRPC message).
      const merged = batch.length > 1 ? mergeInputs(batch.map((r) => r.inputs)) : exactCopies(batch[0].inputs);
      const result = await instance.run(merged, batch[0].outputs, ownedBuffers(merged));
      const rows = batch.map((r) => r.batchSize);
      this.hooks.executed(
        rows.reduce((a, b) => a + b, 0),
        result,
      );
      const parts = splitOutputs(result.outputs, rows);
      for (const [i, r] of batch.entries()) this.finish(r, { ...result, outputs: parts[i] }, null, instance.name);
    } catch (err) {
      const e = isTenancyError(err) ? err : errors.internal((err as Error).message);
      // A run sent ahead to an instance that died before starting it goes back to the queue.
      if (err instanceof RunNotStartedError) this.requeue(batch);
      else for (const r of batch) this.finish(r, null, e, instance.name);
    } finally {
      this.running -= batch.length;
      this.dispatch();
      this.notifyIdle();
    }
  }

  /** Puts requests that never ran back in the queue (one that ended meanwhile stays ended). */
  private requeue(batch: Tracked[]): void {
    for (const r of batch) if (!r.settled) this.queue.push(r, r.level);
  }

  private finish(req: Tracked, result: RunResult | null, error: TenancyError | null, instance: string): void {
    if (req.settled) return; // it timed out or was cancelled while running: the late result is dropped
    if (!this.options.batching?.preserveOrdering) return this.settle(req, result, error, instance);
    req.outcome = { result, error, instance };
    this.releaseInOrder();
  }

  /** preserve_ordering: hand out outcomes from the oldest request on, stopping at one still running. */
  private releaseInOrder(): void {
    while (this.orderedHead < this.ordered.length) {
      const head = this.ordered[this.orderedHead]!;
      if (!head.settled && !head.outcome) break;
      this.ordered[this.orderedHead++] = undefined;
      if (!head.settled && head.outcome)
        this.settle(head, head.outcome.result, head.outcome.error, head.outcome.instance);
    }
    if (this.orderedHead > 1024 && this.orderedHead * 2 > this.ordered.length) {
      this.ordered = this.ordered.slice(this.orderedHead);
      this.orderedHead = 0;
    }
  }

  private settle(req: Tracked, result: RunResult | null, error: TenancyError | null, instance: string): void {
    req.timer?.clear();
    if (req.onAbort) req.signal?.removeEventListener('abort', req.onAbort);
    req.settled = true;
    this.hooks.settled(req, result, error, instance);
  }

  /**
   * REJECT: the request fails wherever it is, so the caller never waits past its deadline.
   * DELAY (as in Triton, a queue policy): a queued request moves behind all others; a running one runs on.
   */
  private onDeadline(req: Tracked): void {
    const level = req.level;
    if (this.options.levels[level]?.timeoutAction !== 'DELAY') {
      return this.end(req, errors.timeout(this.options.model, req.timeoutMs, req.queued ? 'queued' : 'running'));
    }
    if (!req.queued) return;
    this.queue.remove(req);
    this.queue.push(req, this.queue.levelCount - 1);
  }

  /** Ends a request early (timeout, cancel, shutdown) wherever it is. */
  private end(req: Tracked, error: TenancyError): void {
    if (req.settled) return;
    this.queue.remove(req);
    this.clearDelayIfEmpty();
    this.settle(req, null, error, '');
    if (this.options.batching?.preserveOrdering) this.releaseInOrder();
    this.notifyIdle();
  }

  /** Fails every waiting request (no instance can ever take them). */
  failQueued(error: TenancyError): void {
    for (const req of this.queue.drainAll()) this.end(req, error);
  }

  /** Resolves when nothing waits and nothing runs. */
  idle(): Promise<void> {
    if (this.queue.size === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private notifyIdle(): void {
    if (this.queue.size > 0 || this.running > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
