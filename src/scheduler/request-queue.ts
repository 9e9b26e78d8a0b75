/**
 * The bounded queue of one model's waiting requests, with priority levels (index 0 = highest).
 * Each level is a FIFO with a moving head, so taking the next request is O(1). A request that
 * leaves early (timeout, cancel, taken into a batch out of order) is only marked and skipped when
 * it reaches the head: it stops counting against the limit at once, without an O(n) removal.
 */
export interface Queued {
  /** True while the request waits in this queue. */
  queued: boolean;
  /** Priority level index: 0 is served first. */
  level: number;
  /** Which push put it here: set by the queue. */
  ticket?: number;
}

class Level<T> {
  items: (T | undefined)[] = [];
  /** The ticket of each entry: an entry is the item's live one only while the tickets match. */
  tickets: number[] = [];
  head = 0;
  live = 0;
  constructor(readonly limit: number) {}
}

/**
 * Whether entry `i` of a level is where its item waits now. An item pushed again (moved to another
 * level by timeout_action DELAY, or sent back after its instance died before running it) leaves a
 * stale entry behind; without the ticket a request sent back before the head passed its old entry
 * was yielded twice and ran twice in one batch.
 */
function isHere<T extends Queued>(l: Level<T>, i: number, level: number): boolean {
  const item = l.items[i];
  return !!item && item.queued && item.level === level && item.ticket === l.tickets[i];
}

let nextTicket = 1;

export class RequestQueue<T extends Queued> {
  private readonly levels: Level<T>[];
  private total = 0;

  /** @param limits most requests that may wait at each level; 0 = unbounded. */
  constructor(limits: number[]) {
    this.levels = limits.map((l) => new Level<T>(l));
  }

  /** Requests waiting, over all levels. */
  get size(): number {
    return this.total;
  }

  get levelCount(): number {
    return this.levels.length;
  }

  limit(level: number): number {
    return this.levels[level].limit;
  }

  isFull(level: number): boolean {
    const l = this.levels[level];
    return l.limit > 0 && l.live >= l.limit;
  }

  push(item: T, level = 0): void {
    const l = this.levels[level];
    item.level = level;
    item.queued = true;
    item.ticket = nextTicket++;
    l.items.push(item);
    l.tickets.push(item.ticket);
    l.live++;
    this.total++;
  }

  /** Takes a waiting request out, wherever it is (it is skipped later at the head). */
  remove(item: T): void {
    if (!item.queued) return;
    item.queued = false;
    this.levels[item.level].live--;
    this.total--;
  }

  /** The next waiting request in priority order, taken out; undefined when none. */
  shift(): T | undefined {
    for (const item of this.waiting()) {
      this.remove(item);
      return item;
    }
    return undefined;
  }

  /** Waiting requests in the order they will be served (highest level first, FIFO within it). */
  *waiting(): Generator<T> {
    for (const [index, l] of this.levels.entries()) {
      this.skipGone(l, index);
      for (let i = l.head; i < l.items.length; i++) if (isHere(l, i, index)) yield l.items[i]!;
    }
  }

  /** Removes and returns every waiting request. */
  drainAll(): T[] {
    const out = [...this.waiting()];
    for (const item of out) this.remove(item);
    return out;
  }

  private skipGone(l: Level<T>, index: number): void {
    while (l.head < l.items.length && !isHere(l, l.head, index)) l.items[l.head++] = undefined;
    if (l.head > 1024 && l.head * 2 > l.items.length) {
      l.items = l.items.slice(l.head);
      l.tickets = l.tickets.slice(l.head);
      l.head = 0;
    }
  }
}
