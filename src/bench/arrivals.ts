/**
 * When the requests of an open loop are sent: at a constant rate (evenly spaced) or as a Poisson
 * process (exponential gaps with the same mean), as perf_analyzer's --request-distribution does.
 * Pure: a schedule is a function from the request index to its send time.
 */
import { errors } from '../errors.js';
import { exponential, seededRandom } from './rng.js';

export type ArrivalDistribution = 'constant' | 'poisson';

export interface ArrivalOptions {
  /** Requests per second, > 0. */
  rate: number;
  distribution: ArrivalDistribution;
  /** Seed of the Poisson gaps; default 1. */
  seed?: number;
}

/** Yields send times in ms from the start of the load, ascending, forever. */
export function* arrivalTimes(options: ArrivalOptions): Generator<number, never> {
  const { rate, distribution } = options;
  if (!(rate > 0 && Number.isFinite(rate)))
    throw errors.invalidArg(`request rate must be a number > 0 (requests/s), got ${rate}`);
  if (distribution !== 'constant' && distribution !== 'poisson')
    throw errors.invalidArg(
      `arrival distribution must be "constant" or "poisson", got ${JSON.stringify(distribution)}`,
    );
  const gapMs = 1000 / rate;
  const random = seededRandom(options.seed ?? 1);
  let t = 0;
  for (let i = 0; ; i++) {
    if (distribution === 'constant') yield i * gapMs;
    else {
      t += exponential(random, gapMs);
      yield t;
    }
  }
}
