/**
 * A host is where an instance's session lives: a worker thread here (cheap, shares the process's
 * memory), or a child process (process-host.ts). Both speak host-protocol.ts. A host that exits
 * without being asked fails its own pending runs, with a message that says which host and why,
 * and emits 'crash' so the owner can replace it.
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { fromWire, RunNotStartedError, TenancyError } from '../errors.js';
import { batchBuffers } from './batch-buffers.js';
import { idleCollector } from './idle-gc.js';
import type {
  FromHost,
  LoadMessage,
  PrepareMessage,
  ReadyMessage,
  ResultMessage,
  RunMessage,
} from './host-protocol.js';

/** What the engine sends to a host. */
export type ToHostMessage = LoadMessage | PrepareMessage | RunMessage | { type: 'close' };

export type HostKind = 'thread' | 'process';

export interface Host extends EventEmitter<{ crash: [reason: string]; loaded: [] }> {
  readonly kind: HostKind;
  /** e.g. "worker thread 7" or "process 1234": used in messages. */
  readonly label: string;
  /** Loads and warms the session; resolves when it can take runs. */
  start(load: LoadMessage): Promise<ReadyMessage>;
  /** Writes a shared-weights model (host-protocol.ts PrepareMessage); rejects with ONNX Runtime's reason. */
  prepare(msg: PrepareMessage): Promise<void>;
  /** `transfer`: input buffers the caller gives up (moved to a worker thread instead of copied). */
  run(msg: RunMessage, transfer?: ArrayBuffer[]): Promise<ResultMessage>;
  /** Closes the session and ends the host; pending runs are allowed to finish first by the caller. */
  close(): Promise<void>;
  /** Ends the host now, as a crash would. */
  kill(): Promise<void>;
}

const CLOSE_GRACE_MS = 5000;

interface Pending {
  resolve: (r: ResultMessage) => void;
  reject: (e: TenancyError) => void;
}

/** Resolves the host entry point next to this file: .ts under tsx (tests), .js when built. */
export function hostMainUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./host-main${ext}`, import.meta.url);
}

/** Shared bookkeeping of both host kinds: pending runs, start handshake, crash reporting. */
export abstract class BaseHost extends EventEmitter<{ crash: [reason: string]; loaded: [] }> implements Host {
  abstract readonly kind: HostKind;
  abstract label: string;
  protected pending = new Map<number, Pending>();
  protected starting: { resolve: (r: ReadyMessage) => void; reject: (e: Error) => void } | null = null;
  protected preparing: { resolve: () => void; reject: (e: Error) => void } | null = null;
  protected closing = false;
  protected exited = false;
  private killed = false;

  protected abstract post(msg: ToHostMessage, transfer?: ArrayBuffer[]): void;
  protected abstract end(): Promise<void>;

  // Loads and runs count as work for the idle collector (idle-gc.ts): it collects the engine
  // thread's garbage (model bytes read while loading, request buffers) once they are all done.
  start(load: LoadMessage): Promise<ReadyMessage> {
    return idleCollector.track(
      new Promise((resolve, reject) => {
        this.starting = { resolve, reject };
        this.post(load);
      }),
    );
  }

  prepare(msg: PrepareMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.preparing = { resolve, reject };
      this.post(msg);
    });
  }

  run(msg: RunMessage, transfer?: ArrayBuffer[]): Promise<ResultMessage> {
    if (this.exited)
      return Promise.reject(new TenancyError('INSTANCE_FAILED', `${this.label} has exited`, { host: this.label }));
    return idleCollector.track(
      new Promise((resolve, reject) => {
        this.pending.set(msg.id, { resolve, reject });
        this.post(msg, transfer);
      }),
    );
  }

  async close(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    this.post({ type: 'close' });
    await this.end();
  }

  /** Ends the host at once. Deliberate: it is no crash, so no replacement is started for it. */
  async kill(): Promise<void> {
    this.killed = true;
    await this.end();
  }

  protected onMessage(msg: FromHost): void {
    switch (msg.type) {
      case 'loaded':
        this.emit('loaded');
        break;
      case 'ready':
        this.starting?.resolve(msg);
        this.starting = null;
        break;
      case 'prepared':
        if (msg.error) this.preparing?.reject(fromWire(msg.error));
        else this.preparing?.resolve();
        this.preparing = null;
        break;
      case 'load-failed':
        this.starting?.reject(fromWire(msg.error));
        this.starting = null;
        break;
      case 'result':
      case 'failed': {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.type === 'result') {
          for (const ab of msg.returned ?? []) batchBuffers.give(ab);
          p.resolve(msg);
        } else p.reject(fromWire(msg.error));
      }
    }
  }

  /** Called once when the host is gone, whatever the cause. */
  protected onExit(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    const expected = this.closing || this.killed;
    const err = new TenancyError('INSTANCE_FAILED', `${this.label} ${reason}`, { host: this.label, reason });
    this.starting?.reject(err);
    this.starting = null;
    this.preparing?.reject(err);
    this.preparing = null;
    // The host runs in the order sent: only the oldest pending run had started; the others never
    // did, and say so, so that their requests can go to another instance.
    let first = true;
    for (const p of this.pending.values()) {
      p.reject(first ? err : new RunNotStartedError(err.message, err.details));
      first = false;
    }
    this.pending.clear();
    if (!expected) this.emit('crash', reason);
  }
}

/**
 * V8 limits of a host's worker thread. V8's heap flags are the process's, so a worker would get
 * the serving process's 16 MiB semi-spaces (server/heap-flags.ts, set for the engine thread's
 * request objects). A host allocates little per run (its tensors are ArrayBuffers outside the
 * heap), yet under load each worker's young generation grew to 8-26 MB more than with a 3 MiB
 * young generation (1 MiB semi-spaces, V8's own starting size), at the same throughput; idle, a
 * worker then also holds ~0.5 MB less (docs/memory.md).
 */
export const WORKER_RESOURCE_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 3 };

export type ResourceLimits = { maxYoungGenerationSizeMb?: number; maxOldGenerationSizeMb?: number };

/**
 * Starts a worker on host-main. Under tsx (tests, `npm run bench:*`) the worker does not inherit
 * the TypeScript loader, so it registers tsx itself before importing the .ts entry point.
 */
function createWorker(resourceLimits: ResourceLimits): Worker {
  const url = hostMainUrl();
  if (url.pathname.endsWith('.js')) return new Worker(url, { resourceLimits });
  const boot = `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(url.href)}))`;
  return new Worker(boot, { eval: true, resourceLimits });
}

export class ThreadHost extends BaseHost {
  readonly kind = 'thread' as const;
  label: string;
  private readonly worker: Worker;

  constructor(resourceLimits: ResourceLimits = WORKER_RESOURCE_LIMITS) {
    super();
    this.worker = createWorker(resourceLimits);
    this.label = `worker thread ${this.worker.threadId}`;
    this.worker.on('message', (m: FromHost) => this.onMessage(m));
    this.worker.on('error', (e) => this.onExit(`threw ${e.message}`));
    this.worker.on('exit', (code) => this.onExit(`exited unexpectedly (code ${code})`));
  }

  /** The V8 limits the worker runs under, as V8 applied them (WORKER_RESOURCE_LIMITS unless given). */
  get resourceLimits(): ResourceLimits {
    return this.worker.resourceLimits ?? {};
  }

  protected post(msg: ToHostMessage, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(msg, transfer);
  }

  protected async end(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.worker.once('exit', () => r()));
    if (!this.closing) await this.worker.terminate();
    // A host asked to close gets a grace period to release its session, then is stopped.
    const grace = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS);
    await gone;
    clearTimeout(grace);
  }
}
