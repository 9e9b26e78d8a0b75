/** The pino logger factory: JSON lines on stderr; `TENANCY_LOG` sets the level (default info). */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = process.env.TENANCY_LOG ?? 'info'): Logger {
  return pino({ level, base: undefined }, pino.destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
