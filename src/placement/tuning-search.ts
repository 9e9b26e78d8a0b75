/**
 * The live tuner's search: a hill climb over one model's serving configuration (instances,
 * intra-op threads each, the dynamic batcher's largest batch and queue delay), one neighbour at a
 * time, from where the model serves now. Model Analyzer's quick search is the anchor: it walks
 * from a sound start to better neighbours and stops where none is better, instead of measuring
 * the whole grid. Here each trial is measured under the live load (the tuner does that), so the
 * search itself is pure: it proposes the next neighbour and is told what it scored.
 *
 * Neighbours come cheapest and likeliest first: batch sizes (changed in place, no instance
 * starts), then instances +-1, then the same cores split into fewer, fatter instances or more,
 * thinner ones, then the queue delay. A trial is accepted only when it beats the incumbent by
 * `minGain` (the machine's noise is larger than small gains), a point is never tried twice, and
 * a kind of move that lost clearly is not tried again (it saves a third of the trials).
 */

export interface TuningPoint {
  instances: number;
  /** Intra-op threads per instance. */
  threads: number;
  /** The dynamic batcher's largest batch; 1 when the model does not batch (or batching is not tuned). */
  batch: number;
  /** The dynamic batcher's queue delay, µs. */
  delayUs: number;
}

/** What may move, and how far. */
export interface TuningSpace {
  cores: number;
  /** Most instances memory allows. */
  maxInstances: number;
  /** The model's max_batch_size (0: it does not batch). */
  maxBatch: number;
  /** The config left instance_group out: instances and threads are the tuner's to choose. */
  tuneInstances: boolean;
  /** The config left dynamic_batching out and the model batches: batch and delay are the tuner's. */
  tuneBatching: boolean;
}

/** Largest batch the tuner tries, and longest queue delay (µs): beyond them latency grows for little. */
export const TUNING_LIMITS = {
  batch: 32,
  delayUs: 4000,
  firstDelayUs: 500,
  threadsPerCoreOversubscription: 2,
} as const;

export function pointKey(p: TuningPoint): string {
  return `${p.instances}x${p.threads}/b${p.batch}/d${p.delayUs}`;
}

/** e.g. "2 instances x 1 thread, batch up to 4, no queue delay". */
export function describePoint(p: TuningPoint, batches = true): string {
  const inst = `${p.instances} instance${p.instances > 1 ? 's' : ''} x ${p.threads} thread${p.threads > 1 ? 's' : ''}`;
  if (!batches) return inst;
  return `${inst}, batch up to ${p.batch}, ${p.delayUs > 0 ? `queue delay ${p.delayUs} us` : 'no queue delay'}`;
}

/** The kind of step from one point to a neighbour. */
export type Move =
  | 'batch up'
  | 'batch down'
  | 'instance more'
  | 'instance fewer'
  | 'fewer, fatter instances'
  | 'more, thinner instances'
  | 'delay on'
  | 'delay longer'
  | 'delay off';

export interface Neighbour {
  point: TuningPoint;
  move: Move;
}

/** The points one step from `p` that the space allows, cheapest and likeliest first. */
export function neighbours(p: TuningPoint, space: TuningSpace): Neighbour[] {
  const out: Neighbour[] = [];
  const threadBudget = space.cores * TUNING_LIMITS.threadsPerCoreOversubscription;
  const fits = (q: TuningPoint) =>
    q.instances >= 1 &&
    q.instances <= space.maxInstances &&
    q.threads >= 1 &&
    q.threads <= space.cores &&
    q.instances * q.threads <= threadBudget;
  const add = (move: Move, point: TuningPoint) => {
    if (fits(point) && !out.some((x) => pointKey(x.point) === pointKey(point)) && pointKey(point) !== pointKey(p))
      out.push({ point, move });
  };
  const maxBatch = Math.min(space.maxBatch, TUNING_LIMITS.batch);
  if (space.tuneBatching && maxBatch > 1) {
    add('batch up', { ...p, batch: Math.min(maxBatch, p.batch * 2) });
    if (p.batch > 1)
      add('batch down', {
        ...p,
        batch: Math.max(1, Math.floor(p.batch / 2)),
        delayUs: p.batch / 2 <= 1 ? 0 : p.delayUs,
      });
  }
  if (space.tuneInstances) {
    add('instance more', { ...p, instances: p.instances + 1 });
    add('instance fewer', { ...p, instances: p.instances - 1 });
    // The same cores, fewer instances with more threads each, or the other way round.
    if (p.instances % 2 === 0)
      add('fewer, fatter instances', { ...p, instances: p.instances / 2, threads: p.threads * 2 });
    if (p.threads % 2 === 0)
      add('more, thinner instances', { ...p, instances: p.instances * 2, threads: p.threads / 2 });
  }
  if (space.tuneBatching && p.batch > 1) {
    if (p.delayUs === 0) add('delay on', { ...p, delayUs: TUNING_LIMITS.firstDelayUs });
    else {
      add('delay longer', { ...p, delayUs: Math.min(TUNING_LIMITS.delayUs, p.delayUs * 2) });
      add('delay off', { ...p, delayUs: 0 });
    }
  }
  return out;
}

/** A move that lost this badly once (score / incumbent's) is not tried again from the next incumbents. */
export const CLEAR_LOSS = 0.85;

export interface HillClimbOptions {
  /** A trial must score at least the incumbent's score times this to replace it. Default 1.05. */
  minGain?: number;
  /** Trials at most (the tuner's time goal). Default 12. */
  maxTrials?: number;
}

export interface Trial {
  point: TuningPoint;
  move: Move | null;
  score: number;
  /** The incumbent's score it was compared with. */
  against: number;
  accepted: boolean;
}

export class HillClimb {
  private current: TuningPoint;
  private readonly tried = new Set<string>();
  /** Moves that lost clearly: one step of this kind rarely turns into a gain one step later. */
  private readonly losing = new Set<Move>();
  readonly trials: Trial[] = [];
  private readonly minGain: number;
  private readonly maxTrials: number;

  constructor(
    start: TuningPoint,
    private readonly space: TuningSpace,
    options: HillClimbOptions = {},
  ) {
    this.current = start;
    this.tried.add(pointKey(start));
    this.minGain = options.minGain ?? 1.05;
    this.maxTrials = options.maxTrials ?? 12;
  }

  get incumbent(): TuningPoint {
    return this.current;
  }

  /** The next point to measure, or null when settled (no untried neighbour, or out of trials). */
  next(): TuningPoint | null {
    if (this.trials.length >= this.maxTrials) return null;
    return (
      neighbours(this.current, this.space).find((q) => !this.tried.has(pointKey(q.point)) && !this.losing.has(q.move))
        ?.point ?? null
    );
  }

  /**
   * Records a trial's score against the incumbent's (both measured by the caller); true when it
   * becomes the incumbent.
   */
  report(point: TuningPoint, score: number, incumbentScore: number): boolean {
    const move = neighbours(this.current, this.space).find((q) => pointKey(q.point) === pointKey(point))?.move ?? null;
    this.tried.add(pointKey(point));
    const accepted = score > 0 && score >= incumbentScore * this.minGain;
    this.trials.push({ point, move, score, against: incumbentScore, accepted });
    if (move && !accepted && score < incumbentScore * CLEAR_LOSS) this.losing.add(move);
    if (accepted) this.current = point;
    return accepted;
  }
}
