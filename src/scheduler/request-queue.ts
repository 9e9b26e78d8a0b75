/**
 * The bounded FIFO of one model's waiting requests. Dequeue is O(1) with a moving head; a request
 * that leaves early (timeout, cancel) is only marked settled and skipped when it reaches the head,
 * so it stops counting against the limit at once without an O(n) removal.
 */
export interface Queued {
  settled: boolean;
}

export class RequestQueue<T extends Queued> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private live = 0;

  /** @param limit most requests that may wait; 0 = unbounded. */
  constructor(readonly limit: number) {}

  /** Requests waiting (settled ones excluded). */
  get size(): number {
    return this.live;
  }

  get full(): boolean {
    return this.limit > 0 && this.live >= this.limit;
  }

  push(item: T): void {
    this.items.push(item);
    this.live++;
  }

  /** Marks that a queued item settled while waiting, so it no longer counts. */
  forget(): void {
    this.live--;
  }

  /** Next live item, or undefined. */
  shift(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      this.items[this.head++] = undefined;
      if (item && !item.settled) {
        this.live--;
        this.compact();
        return item;
      }
    }
    this.compact();
    return undefined;
  }

  /** Removes and returns every live item. */
  drainAll(): T[] {
    const out: T[] = [];
    for (let it = this.shift(); it; it = this.shift()) out.push(it);
    return out;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
