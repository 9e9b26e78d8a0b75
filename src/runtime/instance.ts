/**
 * One loaded runtime session of one model version, living in a host: the unit of concurrency.
 * Lifecycle: loading → warming → ready → draining → stopped, or failed (with the reason). Its host
 * runs one request (or batch) at a time, in the order sent; the scheduler may send the next one
 * while the current runs (a pipeline of depth 2), so the session never waits for the round trip.
 */
import { EventEmitter } from 'node:events';
import { errors, isTenancyError, RunNotStartedError } from '../errors.js';
import type { TensorMap } from '../tensor.js';
import { ThreadHost, type Host, type HostKind, type ResourceLimits } from './host.js';
import { ProcessHost } from './process-host.js';
import { preciseNow, type ReadyMessage, type WarmupRun } from './host-protocol.js';
import type { SessionOptions } from './session.js';
import type { SimulatedModel } from './sim-session.js';
import { DEFAULT_SHARE_WEIGHTS, sharedWeights, withLeanDefaults, type WeightsLease } from './shared-weights.js';

export type InstanceState = 'loading' | 'warming' | 'ready' | 'draining' | 'stopped' | 'failed';

export interface InstanceOptions {
  /** e.g. "mobilenet_v2:1#0". */
  name: string;
  file: string;
  session: SessionOptions;
  /** Run before the instance is ready (Triton's model_warmup); empty: none. */
  warmup: WarmupRun[];
  /** Worker thread (default: cheapest) or child process (isolated, pinnable, own memory figure). */
  host?: HostKind;
  /** For worker-thread hosts: the worker's V8 limits (default host.ts WORKER_RESOURCE_LIMITS; {}: V8's). */
  resourceLimits?: ResourceLimits;
  /** For process hosts: the CPU cores to pin to. */
  cpus?: number[];
  /** Device id, e.g. "cpu", "cpu:big", "gpu:0", "sim:edgetpu". Default "cpu". */
  device?: string;
  /** Present for a simulated accelerator. */
  simulated?: SimulatedModel;
  /** Longest a load plus warm-up may take before the instance fails, ms. Default 300000. */
  loadTimeoutMs?: number;
}

const DEFAULT_LOAD_TIMEOUT_MS = 300_000;

export interface RunResult {
  outputs: TensorMap;
  /** Epoch ms: sent to the host, session.run start and end inside the host, result back here. */
  sentAt: number;
  /** Of computeStart - sentAt, the time spent waiting in the host behind an earlier run: queue time. */
  hostWaitMs: number;
  computeStart: number;
  computeEnd: number;
  receivedAt: number;
}

let nextRunId = 1;

/**
 * Writes a shared-weights copy in a child process that then exits: writing loads the whole model,
 * and a host that did it would keep that memory (the allocator does not give it back), which
 * would cost more than the sharing saves.
 */
async function writeInChildProcess(source: string, target: string): Promise<void> {
  const writer = new ProcessHost();
  try {
    await writer.prepare({ type: 'prepare', source, target });
  } finally {
    await writer.close().catch(() => {});
  }
}

export class ModelInstance extends EventEmitter<{ state: [InstanceState]; crash: [string] }> {
  readonly name: string;
  state: InstanceState = 'loading';
  reason = '';
  /** Runs sent and not yet answered: the one running and those queued in the host behind it. */
  inflight = 0;
  /** When it last finished a run: the scheduler prefers the instance idle longest, which spreads load. */
  idleSince = 0;
  readonly threads: number;
  readonly hostKind: HostKind;
  readonly device: string;
  ready: ReadyMessage | null = null;
  completed = 0;
  /** 'shared': it reads the model's one shared copy of the weights (shared-weights.ts); 'private': its own. */
  weights: 'shared' | 'private' = 'private';
  /** Why the weights are private although sharing was asked for (the runtime refused); empty otherwise. */
  weightsNote = '';
  /** The shared-weights file it loaded, while it holds it. */
  weightsFile: string | undefined;
  /** The session options it loaded with: its own, plus the shared copy's lean defaults (shared-weights.ts). */
  sessionOptions: SessionOptions;
  private lease: WeightsLease | null = null;
  /** computeEnd of the last answered run: a run sent before it waited in the host until then. */
  private lastComputeEnd = 0;
  private host: Host;
  private drained: (() => void) | null = null;

  constructor(private readonly options: InstanceOptions) {
    super();
    this.name = options.name;
    this.threads = options.session.intraOpThreads;
    this.sessionOptions = options.session;
    this.hostKind = options.host ?? 'thread';
    this.device = options.device ?? 'cpu';
    this.host =
      this.hostKind === 'process' ? new ProcessHost({ cpus: options.cpus }) : new ThreadHost(options.resourceLimits);
    this.host.on('loaded', () => this.setState('warming'));
    this.host.on('crash', (why) => {
      this.fail(`${this.host.label} ${why}`);
      void this.releaseWeights();
      this.emit('crash', why);
    });
  }

  get busy(): boolean {
    return this.inflight > 0;
  }

  get hostLabel(): string {
    return this.host.label;
  }

  /** The host's process id (a worker thread's is the engine's own). */
  get pid(): number | undefined {
    return this.ready?.pid;
  }

  /** Resident memory of the host after load and warm-up, in bytes; only a process host has its own. */
  get memoryBytes(): number | undefined {
    return this.hostKind === 'process' ? this.ready?.rssBytes : undefined;
  }

  /** Loads and warms; resolves when ready, rejects (state failed) when the model cannot load. */
  async start(): Promise<void> {
    const limitMs = this.options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    // A load that never ends (a driver that hangs, a host that never answers) must not hold the model forever.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(errors.instanceFailed(this.name, `it did not load and warm up within ${limitMs} ms`)),
        limitMs,
      );
    });
    try {
      this.ready = await Promise.race([this.load(), timeout]);
    } catch (err) {
      this.fail(`load failed: ${(err as Error).message}`);
      await this.host.kill().catch(() => {});
      await this.releaseWeights();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (this.state === 'loading' || this.state === 'warming') {
      this.idleSince = preciseNow();
      this.setState('ready');
    }
  }

  /** Loads the shared-weights copy when asked and possible; a private copy otherwise, saying why in weightsNote. */
  private async load(): Promise<ReadyMessage> {
    const o = this.options;
    const load = {
      type: 'load' as const,
      file: o.file,
      session: o.session,
      warmup: o.warmup,
      simulated: o.simulated,
    };
    const cpuOnly = o.session.executionProviders.every((p) => p === 'cpu');
    if (!(o.session.shareWeights ?? DEFAULT_SHARE_WEIGHTS) || o.simulated || !cpuOnly) return this.host.start(load);
    try {
      this.lease = await sharedWeights.acquire(o.file, writeInChildProcess);
      // It failed meanwhile (its load timed out): the copy is not wanted.
      if (this.state === 'failed') {
        await this.releaseWeights();
        throw errors.instanceFailed(this.name, this.reason);
      }
    } catch (err) {
      if (this.state === 'failed') throw err;
      this.weightsNote = `ONNX Runtime could not write a shared-weights copy: ${(err as Error).message}`;
      return this.host.start(load);
    }
    try {
      const session = withLeanDefaults(o.session, this.lease.defaults);
      const ready = await this.host.start({ ...load, file: this.lease.file, session });
      this.weights = 'shared';
      this.weightsFile = this.lease.file;
      this.sessionOptions = session;
      return ready;
    } catch (err) {
      await this.releaseWeights();
      this.weightsNote = `ONNX Runtime could not load the shared-weights copy: ${(err as Error).message}`;
      return this.host.start(load);
    }
  }

  private async releaseWeights(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    this.weightsFile = undefined;
    await lease?.release().catch(() => {});
  }

  /** Runs once. `transfer` lists input buffers the caller gives up, so a worker gets them without a copy. */
  async run(inputs: TensorMap, outputs?: string[], transfer?: ArrayBuffer[]): Promise<RunResult> {
    if (this.state !== 'ready' && this.state !== 'draining')
      throw errors.instanceFailed(this.name, `it is ${this.state}`);
    this.inflight++;
    const sentAt = preciseNow();
    try {
      const r = await this.host.run({ type: 'run', id: nextRunId++, inputs, outputs }, transfer);
      this.completed++;
      // Results come back in the order sent, so the previous run's end is known here.
      const hostWaitMs = Math.max(0, Math.min(r.computeStart, this.lastComputeEnd) - sentAt);
      this.lastComputeEnd = r.computeEnd;
      return {
        outputs: r.outputs,
        sentAt,
        hostWaitMs,
        computeStart: r.computeStart,
        computeEnd: r.computeEnd,
        receivedAt: preciseNow(),
      };
    } catch (err) {
      // The host knows what happened; the caller needs to know which instance it happened to.
      if (isTenancyError(err, 'INSTANCE_FAILED')) {
        if (err instanceof RunNotStartedError)
          throw new RunNotStartedError(
            errors.instanceFailed(this.name, `${err.message} before the run started`).message,
            err.details,
          );
        throw errors.instanceFailed(this.name, `${err.message} while running the request`);
      }
      throw err;
    } finally {
      this.inflight--;
      this.idleSince = preciseNow();
      if (this.drained && this.state === 'draining' && this.inflight === 0) this.drained();
    }
  }

  /** Takes no new work; waits for the runs sent to it, then closes the session and the host. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.state === 'failed') {
      await this.host.kill().catch(() => {});
      await this.releaseWeights();
      return;
    }
    this.setState('draining');
    if (this.busy) await new Promise<void>((r) => (this.drained = r));
    await this.host.close();
    await this.releaseWeights();
    this.setState('stopped');
  }

  private fail(reason: string): void {
    if (this.state === 'stopped' || this.state === 'failed') return;
    this.reason = reason;
    this.setState('failed');
  }

  private setState(s: InstanceState): void {
    this.state = s;
    this.emit('state', s);
  }
}
