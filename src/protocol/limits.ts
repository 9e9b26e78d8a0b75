/**
 * Bounds on what one inference request may carry, checked before any per-item work, on both
 * transports. No model needs more, and without them one request could hold the event loop: 150 000
 * inputs took ~50 s to decode while /v2/health/live waited behind them. Every check after these is
 * linear in the request's size.
 */
import { errors } from '../errors.js';

export const REQUEST_LIMITS = {
  /** Inputs in one request, and outputs asked for. */
  tensors: 1024,
  /** Entries in one parameters object (the request's, an input's, an output's). */
  parameters: 256,
  /** Dimensions of one shape. */
  rank: 64,
  /** Characters of a tensor, parameter or model name. */
  name: 1024,
  /**
   * Elements of one BYTES tensor (strings, pictures). Each is an object of its own: an empty one
   * costs 2-4 bytes on the wire and ~100 in memory, so 64 MB of them would take gigabytes.
   */
  bytesElements: 65_536,
} as const;

export function checkCount(n: number, limit: number, what: string): void {
  if (n > limit)
    throw errors.invalidArg(`${what}: ${n} is more than this server accepts in one request (at most ${limit})`);
}

/** A tensor name as the request gives it: a string, not absurdly long. */
export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string') throw errors.invalidArg(`${what} must have a string "name"`);
  if (name.length > REQUEST_LIMITS.name)
    throw errors.invalidArg(`${what}: the name is ${name.length} characters long, more than ${REQUEST_LIMITS.name}`);
  return name;
}

/** Throws on the first name seen twice; linear (a Set, not a scan per tensor). */
export function uniqueNames(kind: 'input' | 'output'): (name: string) => void {
  const seen = new Set<string>();
  return (name) => {
    if (seen.has(name))
      throw errors.invalidArg(
        kind === 'input' ? `input "${name}" appears twice in the request` : `output "${name}" is asked for twice`,
      );
    seen.add(name);
  };
}
