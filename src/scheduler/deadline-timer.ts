/**
 * A timer for a moment that may be far away. Node clamps any setTimeout delay above 2^31 - 1 ms
 * (24.8 days) to 1 ms, so a request with `timeout` 2^31 ms or more (2147483648000 us) timed out at
 * once. This one waits in steps of at most that delay and fires only when the moment has come.
 */
import { preciseNow } from '../runtime/index.js';

const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The time and timers the scheduler runs on. Always the real ones when serving (`realClock`); a
 * test gives a fake one (SchedulerOptions.clock) to step through deadlines and queue delays
 * without waiting for them.
 */
export interface Clock {
  /** Epoch ms with sub-millisecond precision, as preciseNow(). */
  now(): number;
  setTimeout(fire: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: preciseNow,
  setTimeout: (fire, ms) => setTimeout(fire, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class DeadlineTimer {
  private handle: unknown = null;

  /** Calls `fire` once `clock.now()` reaches `at` (ms on that clock). */
  constructor(
    private readonly at: number,
    private readonly clock: Clock,
    private readonly fire: () => void,
  ) {
    this.arm();
  }

  private arm(): void {
    const wait = Math.max(0, this.at - this.clock.now());
    this.handle = this.clock.setTimeout(
      () => {
        if (this.at - this.clock.now() > 0) return this.arm(); // a step of a longer wait (or a timer that woke early)
        this.handle = null;
        this.fire();
      },
      Math.min(wait, MAX_DELAY_MS),
    );
  }

  clear(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }
}
