/**
 * The pino logger factory and the log format of the whole process.
 * - `text` (the default): the commands print plain lines on stdout; the engine's pino logger writes
 *   JSON lines on stderr. `TENANCY_LOG` sets the logger's level (default info).
 * - `json` (`--log-format json` or `TENANCY_LOG_FORMAT=json`): everything goes to stdout as pino
 *   JSON lines, one record a line, as journald and log shippers read them: the engine's logger,
 *   and every line the commands print (console.log/info as level 30, console.warn 40,
 *   console.error 50, the text in `msg`). A command's failure line is a JSON record on stderr.
 */
import { format as formatArgs } from 'node:util';
import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

let current: LogFormat = 'text';

/** The process's log format. */
export function logFormat(): LogFormat {
  return current;
}

export function createLogger(level = process.env.TENANCY_LOG ?? 'info'): Logger {
  return pino({ level, base: undefined }, pino.destination({ dest: current === 'json' ? 1 : 2, sync: true }));
}

export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * Sets the process's log format. `json` turns console.log/info/warn/error into pino records on
 * stdout (written at once, so nothing is lost when the process exits) and exports
 * TENANCY_LOG_FORMAT=json so that child processes started from here see it.
 */
export function setLogFormat(format: LogFormat): void {
  if (!LOG_FORMATS.includes(format)) throw new Error(`log format must be one of ${LOG_FORMATS.join(', ')}`);
  if (format === current) return;
  current = format;
  if (format === 'text') return;
  process.env.TENANCY_LOG_FORMAT = 'json';
  const lines = pino({ level: 'info', base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
  const at =
    (level: 'info' | 'warn' | 'error') =>
    (...args: unknown[]): void =>
      lines[level](formatArgs(...args));
  console.log = at('info');
  console.info = at('info');
  console.warn = at('warn');
  console.error = at('error');
}

/** A command's failure as one line on stderr: the text as it is, or a pino record in json format. */
export function failureLine(message: string): string {
  if (current === 'text') return `${message}\n`;
  return `${JSON.stringify({ level: 50, time: Date.now(), pid: process.pid, msg: message })}\n`;
}
