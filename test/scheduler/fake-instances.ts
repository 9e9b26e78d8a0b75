/**
 * Fakes for the scheduler's policy tests: instances whose runs end when the test says so, and a
 * clock whose time moves only when the test moves it. The scheduler under test is the real one,
 * built from a real model config and fed requests the way Model builds them (engine/scheduling.ts),
 * so a test reads as "two requests queued, instance idle: one batch of 2 was sent", with no
 * runtime and no waiting. For policy tests only: what a real session computes is tested end to end.
 */
import { errors, RunNotStartedError, type TenancyError } from '../../src/errors.js';
import type { InferenceRequest } from '../../src/engine/request.js';
import { requestLevel, requestTimeoutMs, schedulerOptions } from '../../src/engine/scheduling.js';
import { validateModelConfig, type ModelConfig } from '../../src/repository/index.js';
import type { RunResult } from '../../src/runtime/index.js';
import { batchKey, Scheduler, type Clock, type SchedulerInstance } from '../../src/scheduler/index.js';
import type { TensorMap } from '../../src/tensor.js';

/** Lets every promise continuation that is ready run (the scheduler's after a run ends). No time passes. */
export const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Time in ms that moves only by advance(); timers fire there, each at its own moment, in order. */
export class FakeClock implements Clock {
  time = 1_000_000;
  private readonly timers = new Map<number, { at: number; fire: () => void }>();
  private nextId = 1;

  now(): number {
    return this.time;
  }

  /** As Node's: a delay above 2^31 - 1 ms (24.8 days) becomes 1 ms. */
  setTimeout(fire: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + (ms > 2 ** 31 - 1 ? 1 : ms), fire });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers set and not yet fired or cleared. */
  get armed(): number {
    return this.timers.size;
  }

  /**
   * Moves time on by `ms`, firing on the way every timer that comes due, earliest first. Throws
   * if timers keep firing (a timer that re-arms itself in a loop would spin the real process).
   */
  advance(ms: number): void {
    const end = this.time + ms;
    for (let fired = 0; ; fired++) {
      if (fired > 10_000) throw new Error(`over 10000 timers fired within advance(${ms}): one re-arms in a loop`);
      let next: [number, { at: number; fire: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fire();
    }
    this.time = end;
  }
}

/** One run an instance was sent. */
export interface SentRun {
  /** The requests merged into it, by seq, in row order (each request's rows carry its seq). */
  seqs: number[];
  rows: number;
  inputs: TensorMap;
  outputs?: string[];
  /** The buffers the scheduler gave up to the instance. */
  transfer: ArrayBuffer[];
  sentAt: number;
  answer(result: RunResult): void;
  refuse(error: Error): void;
}

/**
 * An instance as the scheduler sees it (SchedulerInstance), in the same bookkeeping as ModelInstance:
 * `inflight` counts a run from the call until it ends, `idleSince` is when the last one ended, and
 * runs end in the order sent (a host runs them one after another).
 */
export class FakeInstance implements SchedulerInstance {
  state = 'ready';
  inflight = 0;
  idleSince: number;
  /** Every run sent, oldest first. */
  readonly sent: SentRun[] = [];
  private readonly pending: SentRun[] = [];

  constructor(
    readonly name: string,
    private readonly clock: FakeClock,
  ) {
    this.idleSince = clock.now();
  }

  run(inputs: TensorMap, outputs?: string[], transfer: ArrayBuffer[] = []): Promise<RunResult> {
    if (this.state !== 'ready' && this.state !== 'draining')
      return Promise.reject(errors.instanceFailed(this.name, `it is ${this.state}`));
    this.inflight++;
    return new Promise<RunResult>((answer, refuse) => {
      const x = inputs.x;
      const width = x.shape[1] ?? 1;
      const data = x.data as Float32Array;
      const seqs: number[] = [];
      for (let row = 0; row < x.shape[0]; row++) if (seqs.at(-1) !== data[row * width]) seqs.push(data[row * width]);
      const run = { seqs, rows: x.shape[0], inputs, outputs, transfer, sentAt: this.clock.now(), answer, refuse };
      this.sent.push(run);
      this.pending.push(run);
    });
  }

  /** Rows of each run sent, oldest first. */
  get batches(): number[] {
    return this.sent.map((r) => r.rows);
  }

  /** Runs sent and not yet ended, oldest first. */
  get waiting(): readonly SentRun[] {
    return this.pending;
  }

  /**
   * Ends the oldest run in flight with its inputs echoed as outputs of the same names, so each
   * request can be checked to get back exactly its own rows; then lets the scheduler react.
   */
  async resolveNext(): Promise<void> {
    const run = this.take();
    const now = this.clock.now();
    run.answer({
      outputs: run.inputs,
      sentAt: run.sentAt,
      hostWaitMs: 0,
      computeStart: now,
      computeEnd: now,
      receivedAt: now,
    });
    await nextTurn();
  }

  /**
   * Fails a run in flight: the oldest, which is running; or with `notStarted` the newest, sent
   * ahead and never started by its host (RunNotStartedError: its requests may go elsewhere).
   */
  async fail(notStarted = false): Promise<void> {
    if (notStarted) this.take(this.pending.length - 1).refuse(new RunNotStartedError(`instance ${this.name} failed`));
    else this.take().refuse(errors.instanceFailed(this.name, 'the host died while running'));
    await nextTurn();
  }

  /** The host dies as a real one does (host.ts): the running run failed, those sent ahead never started. */
  async crash(): Promise<void> {
    this.state = 'failed';
    if (this.pending.length > 0) this.take().refuse(errors.instanceFailed(this.name, 'the host died while running'));
    while (this.pending.length > 0)
      this.take().refuse(new RunNotStartedError(`instance ${this.name} failed: the host died`));
    await nextTurn();
  }

  private take(index = 0): SentRun {
    const [run] = this.pending.splice(index, 1);
    if (!run) throw new Error(`${this.name} has no run in flight`);
    this.inflight--;
    this.idleSince = this.clock.now();
    return run;
  }
}

export interface Ended {
  result: RunResult | null;
  error: TenancyError | null;
  instance: string;
}

/** A request handed to the scheduler, and how it ended (the scheduler's settled hook). */
export class Call {
  readonly ends: Ended[] = [];
  constructor(readonly req: InferenceRequest) {}

  get seq(): number {
    return this.req.seq;
  }

  get settled(): boolean {
    return this.ends.length > 0;
  }

  get error(): TenancyError | null {
    return this.ends[0]?.error ?? null;
  }

  get result(): RunResult | null {
    return this.ends[0]?.result ?? null;
  }

  get instance(): string | undefined {
    return this.ends[0]?.instance;
  }

  /** It succeeded with exactly its own rows: the echoed output has its batch size and only its seq. */
  get ownRows(): boolean {
    const x = this.result?.outputs.x;
    if (!x || x.shape[0] !== this.req.batchSize) return false;
    return (x.data as Float32Array).every((v) => v === this.seq);
  }
}

export interface RequestOptions {
  /** Second dimension of the input (a request of another width has another shape: never merged). */
  width?: number;
  timeoutMs?: number;
  priority?: number;
  signal?: AbortSignal;
  outputs?: string[];
}

/**
 * A scheduler over `instances` fake instances, from a model config (config.json fields; name "m"
 * and max_batch_size 8 unless given), with a fake clock.
 */
export function fakeScheduler(config: Record<string, unknown>, instances = 1) {
  const clock = new FakeClock();
  const model: ModelConfig = validateModelConfig({ name: 'm', max_batch_size: 8, ...config }, 'm/config.json', 'm');
  const pool = Array.from({ length: instances }, (_, i) => new FakeInstance(`m:1#${i}`, clock));
  const calls = new Map<InferenceRequest, Call>();
  /** Calls in the order they ended. */
  const endings: Call[] = [];
  /** Rows of each execution, as the executed hook reports them. */
  const executions: number[] = [];
  const scheduler = new Scheduler({ ...schedulerOptions(model), clock }, () => pool, {
    settled(req, result, error, instance) {
      const call = calls.get(req)!;
      call.ends.push({ result, error, instance });
      endings.push(call);
    },
    executed: (rows) => executions.push(rows),
  });
  let nextSeq = 1;

  /** Enqueues a request of `rows` rows, as Model.infer does (it throws what enqueue throws). */
  function request(rows = 1, options: RequestOptions = {}): Call {
    const level = requestLevel(model, options.priority);
    const timeoutMs = requestTimeoutMs(model, level, options.timeoutMs);
    const seq = nextSeq++;
    const width = options.width ?? 2;
    const inputs: TensorMap = {
      x: { datatype: 'FP32', shape: [rows, width], data: new Float32Array(rows * width).fill(seq) },
    };
    const now = clock.now();
    const req: InferenceRequest = {
      seq,
      model: model.name,
      version: 1,
      inputs,
      outputs: options.outputs,
      batchSize: rows,
      batchKey: model.dynamic_batching ? batchKey(inputs, options.outputs) : '',
      level,
      timeoutMs,
      deadline: timeoutMs > 0 ? now + timeoutMs : Infinity,
      signal: options.signal,
      receivedAt: now,
      preprocessMs: 0,
      settled: false,
      resolve: () => {},
      reject: () => {},
    };
    const call = new Call(req);
    calls.set(req, call);
    scheduler.enqueue(req);
    return call;
  }

  return { scheduler, clock, instances: pool, request, endings, executions };
}
