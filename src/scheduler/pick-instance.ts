/**
 * Which instance takes the next request or batch. An idle ready one first, the one idle longest:
 * that spreads work over all instances instead of piling on the first. When none is idle, one whose
 * pipeline has room (fewer than `depth` runs sent), the one with fewest sent and, among those, the
 * one whose current run started first, which is likely to finish first.
 */
export interface Pickable {
  state: string;
  /** Runs sent and not yet answered. */
  inflight: number;
  /** When it last finished a run (for a busy instance: about when its current run started). */
  idleSince: number;
}

export function pickInstance<T extends Pickable>(instances: readonly T[], depth = 1): T | null {
  let best: T | null = null;
  for (const i of instances) {
    if (i.state !== 'ready' || i.inflight >= depth) continue;
    if (!best || i.inflight < best.inflight || (i.inflight === best.inflight && i.idleSince < best.idleSince)) best = i;
  }
  return best;
}
