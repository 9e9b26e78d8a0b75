/**
 * The last instances of a model version that died without being asked (a worker thread that
 * threw or exited, a process host killed or crashed) and the replacements that could not start,
 * each with the reason the host gave: what the dashboard's timeline shows. Bounded: the newest
 * CRASHES_KEPT; `seq` counts them all, so a reader tells new ones from those it has seen.
 */

/** Crashes kept per model version. */
export const CRASHES_KEPT = 20;

export interface InstanceCrash {
  /** 1 for the version's first crash, then counting up. */
  readonly seq: number;
  /** Epoch ms. */
  readonly at: number;
  /** crash: the instance's host died; replacement-failed: the instance started in its place did not start. */
  readonly kind: 'crash' | 'replacement-failed';
  /** The instance that died, e.g. "mobilenet_v2:1#0". */
  readonly instance: string;
  /**
   * e.g. "process 1234 exited unexpectedly (signal SIGKILL)", "worker thread 7 threw ...", or why
   * the replacement failed to start.
   */
  readonly reason: string;
}

export class CrashLog {
  private kept: InstanceCrash[] = [];
  private count = 0;

  note(kind: InstanceCrash['kind'], instance: string, reason: string): void {
    const crash = Object.freeze({ seq: ++this.count, at: Date.now(), kind, instance, reason });
    this.kept = [...this.kept.slice(-(CRASHES_KEPT - 1)), crash];
  }

  /** Oldest first; a new array after each crash, never changed in place. */
  get entries(): readonly InstanceCrash[] {
    return this.kept;
  }
}
