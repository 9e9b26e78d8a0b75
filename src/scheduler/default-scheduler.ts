/**
 * One model version's scheduler: a bounded queue in front of its instances. A request goes to an
 * idle ready instance at once, or waits; each instance takes the next waiting request as soon as it
 * is free. Deadlines and cancellation end a request wherever it is: a queued one leaves the queue,
 * a running one gets its error now and its late result is dropped. Requests are never lost: when
 * an instance crashes only its own request fails; the rest wait for the other instances.
 */
import { errors, isTenancyError, TenancyError } from '../errors.js';
import type { InferenceRequest } from '../engine/request.js';
import type { ModelInstance, RunResult } from '../runtime/index.js';
import { preciseNow } from '../runtime/index.js';
import { RequestQueue } from './request-queue.js';
import { pickInstance } from './pick-instance.js';

export interface SchedulerHooks {
  /** Called once per request when it ends, with its result or error. */
  settled(req: InferenceRequest, result: RunResult | null, error: TenancyError | null, instance: string): void;
}

interface Tracked extends InferenceRequest {
  queued: boolean;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
}

export class DefaultScheduler {
  private readonly queue: RequestQueue<Tracked>;
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly model: string,
    maxQueueSize: number,
    private readonly instances: () => readonly ModelInstance[],
    private readonly hooks: SchedulerHooks,
  ) {
    this.queue = new RequestQueue(maxQueueSize);
  }

  get queued(): number {
    return this.queue.size;
  }

  get inflight(): number {
    return this.running;
  }

  /** Accepts a request or throws QUEUE_FULL; the request's own promise carries its outcome. */
  enqueue(request: InferenceRequest): void {
    const req = request as Tracked;
    if (this.queue.full) throw errors.queueFull(this.model, this.queue.limit);
    if (req.signal?.aborted) throw errors.cancelled(this.model);
    req.queued = true;
    this.queue.push(req);
    if (Number.isFinite(req.deadline)) {
      const wait = Math.max(0, req.deadline - preciseNow());
      req.timer = setTimeout(() => this.end(req, errors.timeout(this.model, req.timeoutMs, req.queued ? 'queued' : 'running')), wait);
    }
    if (req.signal) {
      req.onAbort = () => this.end(req, errors.cancelled(this.model));
      req.signal.addEventListener('abort', req.onAbort, { once: true });
    }
    this.dispatch();
  }

  /** Gives waiting requests to idle ready instances. Call when an instance becomes ready. */
  dispatch(): void {
    while (this.queue.size > 0) {
      const instance = pickInstance(this.instances());
      if (!instance) return;
      const req = this.queue.shift();
      if (!req) return;
      req.queued = false;
      void this.execute(instance, req);
    }
  }

  private async execute(instance: ModelInstance, req: Tracked): Promise<void> {
    this.running++;
    req.dispatchedAt = preciseNow();
    try {
      const result = await instance.run(req.inputs, req.outputs);
      this.finish(req, result, null, instance.name);
    } catch (err) {
      const e = isTenancyError(err) ? err : errors.internal((err as Error).message);
      this.finish(req, null, e, instance.name);
    } finally {
      this.running--;
      this.dispatch();
      this.notifyIdle();
    }
  }

  private finish(req: Tracked, result: RunResult | null, error: TenancyError | null, instance: string): void {
    if (req.settled) return; // it timed out or was cancelled while running: the late result is dropped
    this.cleanup(req);
    req.settled = true;
    this.hooks.settled(req, result, error, instance);
  }

  /** Ends a request early (timeout, cancel, shutdown) wherever it is. */
  private end(req: Tracked, error: TenancyError): void {
    if (req.settled) return;
    if (req.queued) {
      req.queued = false;
      this.queue.forget();
    }
    this.cleanup(req);
    req.settled = true;
    this.hooks.settled(req, null, error, '');
    this.notifyIdle();
  }

  private cleanup(req: Tracked): void {
    if (req.timer) clearTimeout(req.timer);
    if (req.onAbort) req.signal?.removeEventListener('abort', req.onAbort);
  }

  /** Fails every waiting request (no instance can ever take them). */
  failQueued(error: TenancyError): void {
    for (const req of this.queue.drainAll()) {
      req.queued = false;
      this.end(req, error);
    }
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
