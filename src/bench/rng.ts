/**
 * A small seeded random number generator (mulberry32): benchmarks and their tests must be able to
 * replay the same arrivals and the same random inputs. Not for anything secret.
 */
export type Random = () => number;

/** Uniform numbers in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An exponentially distributed number with the given mean (inter-arrival time of a Poisson process). */
export function exponential(random: Random, mean: number): number {
  // 1 - u is in (0, 1], so the log is finite.
  return -Math.log(1 - random()) * mean;
}
