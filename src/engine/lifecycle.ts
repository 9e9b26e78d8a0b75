/**
 * The states of a model version and the moves between them, as one table. A model version is
 * loading until every instance has started and warmed, then ready; it is unavailable when its load
 * failed or every instance died and could not be replaced; unloading once an unload began (new
 * requests are refused, accepted ones finish), and unavailable with reason "unloaded" after it.
 * A move the table does not allow is a defect of the engine, not of a request: it throws.
 */
import { errors } from '../errors.js';

export type ModelState = 'loading' | 'ready' | 'unloading' | 'unavailable';

const MOVES: Record<ModelState, readonly ModelState[]> = {
  loading: ['ready', 'unavailable', 'unloading'],
  ready: ['unloading', 'unavailable'],
  // An unload of a version that failed still stops what it holds.
  unavailable: ['unloading'],
  unloading: ['unavailable'],
};

/** The repository extension's names of the states (Triton's index). */
export const STATE_NAMES: Record<ModelState, 'READY' | 'LOADING' | 'UNLOADING' | 'UNAVAILABLE'> = {
  loading: 'LOADING',
  ready: 'READY',
  unloading: 'UNLOADING',
  unavailable: 'UNAVAILABLE',
};

export const UNLOADED = 'unloaded';

export class Lifecycle {
  private current: ModelState = 'loading';
  private why = '';

  /** `what` names the model in the error a forbidden move throws. */
  constructor(private readonly what: string) {}

  get state(): ModelState {
    return this.current;
  }

  /** Why it is not ready ('' when ready or loading). */
  get reason(): string {
    return this.why;
  }

  /** Moves to `to`; throws on a move the table does not allow. */
  move(to: ModelState, reason = ''): void {
    if (!MOVES[this.current].includes(to))
      throw errors.internal(`${this.what}: a model cannot go from ${this.current} to ${to}`);
    this.current = to;
    this.why = reason;
  }

  /** Moves to `to` when the table allows it from here, and says whether it did. */
  tryMove(to: ModelState, reason = ''): boolean {
    if (!MOVES[this.current].includes(to)) return false;
    this.move(to, reason);
    return true;
  }
}
