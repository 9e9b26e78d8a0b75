/** Argument parsers several commands share (no heavy imports: every command loads this). */
import { InvalidArgumentError } from 'commander';

/** Exit code of a command given a wrong argument. */
export const USAGE_EXIT_CODE = 2;

/** Commander's InvalidArgumentError exits with 1; a usage error exits with 2. */
export function usageError(message: string): InvalidArgumentError {
  const err = new InvalidArgumentError(message);
  err.exitCode = USAGE_EXIT_CODE;
  return err;
}

/** `--shape NAME:D1,D2,...`, repeatable: the sizes of an input's dimensions without the batch dimension. */
export function parseShape(value: string, previous: Record<string, number[]>): Record<string, number[]> {
  const m = /^([^:]+):(\d+(?:,\d+)*)$/.exec(value);
  if (!m) throw usageError(`expected NAME:D1,D2,... such as x:3,48,192, got ${JSON.stringify(value)}`);
  return { ...previous, [m[1]]: m[2].split(',').map(Number) };
}
