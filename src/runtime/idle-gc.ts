/**
 * Full garbage collections of the engine thread's heap once its hosts have gone idle after work.
 *
 * Why: the serving heap flags (server/heap-flags.ts) give the old generation a 128 MiB floor and
 * the young generation 2 x 16 MiB, so that request objects and short-lived buffers do not start a
 * full collection several times a second under load. The price, measured on `tenancy serve` with
 * the default repository (docs/memory.md): dead ArrayBuffers stay allocated until a full
 * collection, and an idle process starts none. The bytes of ResNet-50's model file read while
 * loading (98 MB, dead once its inputs and outputs were parsed) were still resident 20 s after
 * ready in some starts; in others a collection happened to run and V8 then shrank the young
 * generation too. Collecting when the loads or the requests end does both every time; while runs
 * are in flight it never runs, so it costs no throughput (a request that arrives during one waits
 * for it: ~10-20 ms for this heap).
 *
 * V8 offers no collection without --expose-gc, and that flag cannot be required of every process
 * that loads the engine (tests, benchmarks, embedders): the collector sets it for a moment and
 * takes `gc` from a context created meanwhile, which is given it.
 */
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';

/**
 * Idle this long after the last load or run ends before collecting, ms, and between the rounds of
 * one idle period. V8 shrinks the young generation in a collection only when it allocated little
 * in the last ~5 s; under the serving flags that is 32 MiB, halved or more per such collection.
 */
export const IDLE_GC_MS = 6000;
/** Collections in one idle period (as V8's own memory reducer, which makes up to 3). */
export const IDLE_GC_ROUNDS = 3;
/** Collect only when at least this much heap and ArrayBuffer memory came since the last collection. */
export const IDLE_GC_MIN_BYTES = 16 * 2 ** 20;

/** V8's full collection, or undefined where it cannot be had (then nothing is collected). */
export function fullCollection(): (() => void) | undefined {
  if (typeof globalThis.gc === 'function') return globalThis.gc as () => void;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** Live-or-dead bytes a collection could give back: the JS heap in use and ArrayBuffer backing stores. */
function collectableBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

export interface IdleCollectorOptions {
  idleMs?: number;
  rounds?: number;
  minBytes?: number;
  /** The collection (default: V8's full collection); for tests. */
  collect?: () => void;
  /** Bytes a collection could give back (default: heap used + ArrayBuffers); for tests. */
  bytes?: () => number;
}

/**
 * Counts work in flight (loads and runs of every host of this thread); when the count has been 0
 * for `idleMs` after some work, and the heap grew by `minBytes` since the last collection,
 * collects, and again every `idleMs` while it stays idle, `rounds` times in all. Then waits for
 * the next work.
 */
export class IdleCollector {
  /** Collections made (for tests and diagnostics). */
  collections = 0;
  private active = 0;
  private worked = false;
  private timer: NodeJS.Timeout | undefined;
  private afterLast = 0;
  private round = 0;
  private readonly idleMs: number;
  private readonly rounds: number;
  private readonly minBytes: number;
  private collect: (() => void) | undefined | null;
  private readonly bytes: () => number;

  constructor(options: IdleCollectorOptions = {}) {
    this.idleMs = options.idleMs ?? IDLE_GC_MS;
    this.rounds = options.rounds ?? IDLE_GC_ROUNDS;
    this.minBytes = options.minBytes ?? IDLE_GC_MIN_BYTES;
    // Looked up at the first collection, so that importing the runtime sets no V8 flag.
    this.collect = options.collect ?? null;
    this.bytes = options.bytes ?? collectableBytes;
  }

  /** Loads and runs in flight now. */
  get inFlight(): number {
    return this.active;
  }

  begin(): void {
    this.active++;
    this.worked = true;
    this.round = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  end(): void {
    this.active = Math.max(0, this.active - 1);
    if (this.active > 0 || !this.worked) return;
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.idle(), this.idleMs);
    // Never keeps a process alive.
    this.timer.unref();
  }

  /** Counts `work` as in flight until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.begin();
    return work.finally(() => this.end());
  }

  private idle(): void {
    this.timer = undefined;
    if (this.active > 0) return;
    this.worked = false;
    // The first round only when the heap grew; the later ones shrink what the first left.
    if (this.round === 0 && this.bytes() - this.afterLast < this.minBytes) return;
    if (this.collect === null) this.collect = fullCollection();
    if (!this.collect) return;
    this.collect();
    this.collections++;
    this.afterLast = this.bytes();
    if (++this.round < this.rounds) this.arm();
  }
}

/** The collector of this thread's hosts (host.ts counts their loads and runs). */
export const idleCollector = new IdleCollector();
