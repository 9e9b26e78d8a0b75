/**
 * Which instance takes the next request: an idle ready one, the one idle longest. Picking the
 * longest-idle spreads work over all instances (each gets its turn) instead of piling on the first.
 */
export interface Pickable {
  state: string;
  busy: boolean;
  idleSince: number;
}

export function pickInstance<T extends Pickable>(instances: readonly T[]): T | null {
  let best: T | null = null;
  for (const i of instances) {
    if (i.state !== 'ready' || i.busy) continue;
    if (!best || i.idleSince < best.idleSince) best = i;
  }
  return best;
}
