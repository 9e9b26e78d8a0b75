/**
 * A timer for a moment that may be far away. Node clamps any setTimeout delay above 2^31 - 1 ms
 * (24.8 days) to 1 ms, so a request with `timeout` 2^31 ms or more (2147483648000 us) timed out at
 * once. This one waits in steps of at most that delay and fires only when the moment has come.
 */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class DeadlineTimer {
  private handle: NodeJS.Timeout | null = null;

  /** Calls `fire` once `now()` reaches `at` (both in ms on the same clock). */
  constructor(
    private readonly at: number,
    private readonly now: () => number,
    private readonly fire: () => void,
  ) {
    this.arm();
  }

  private arm(): void {
    const wait = Math.max(0, this.at - this.now());
    this.handle = setTimeout(
      () => {
        if (this.at - this.now() > 0) return this.arm(); // a step of a longer wait (or a timer that woke early)
        this.handle = null;
        this.fire();
      },
      Math.min(wait, MAX_DELAY_MS),
    );
  }

  clear(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
  }
}
