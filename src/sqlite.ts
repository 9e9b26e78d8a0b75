/**
 * The SQLite database behind the profile, tuning and bench-history stores, from whichever driver
 * this Node.js has: its built-in `node:sqlite` (Node >= 22.13 without a flag; nothing to install or
 * compile, on every platform Node runs on), else better-sqlite3, an optional dependency, since on
 * Node 20 it is the only one (a prebuilt binary where GitHub can be reached, else compiled, which
 * needs a compiler; an install where it failed goes on without it). `TENANCY_SQLITE=node:sqlite` or
 * `=better-sqlite3` picks one; `=none` uses neither (the server then keeps no tunings). The stores
 * use only what both drivers share: exec, prepared statements with positional parameters, and
 * transactions as BEGIN / COMMIT.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { errors } from './errors.js';

export type SqliteDriver = 'node:sqlite' | 'better-sqlite3';

export interface SqlStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqlDatabase {
  readonly driver: SqliteDriver;
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  /** Runs fn in one transaction: committed if it returns, rolled back if it throws. */
  transaction(fn: () => void): void;
  close(): void;
}

interface Driver {
  name: SqliteDriver;
  open(file: string): { exec(sql: string): unknown; prepare(sql: string): SqlStatement; close(): void };
}

const require = createRequire(import.meta.url);
let chosen: Driver | Error | undefined;

/** How long a statement waits for another connection's lock before "database is locked" (better-sqlite3's default). */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating) a database file, or ':memory:', and applies `schema` if given; WAL journal for
 * files, so readers never wait on a writer, and writers wait up to BUSY_TIMEOUT_MS for each other
 * (node:sqlite would not wait at all). A failure closes the handle.
 */
export function openDatabase(file: string, schema?: string): SqlDatabase {
  const driver = sqliteDriver();
  const db = driver.open(file);
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (file !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
    if (schema) db.exec(schema);
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    driver: driver.name,
    exec: (sql) => void db.exec(sql),
    prepare: (sql) => db.prepare(sql),
    transaction(fn) {
      db.exec('BEGIN');
      try {
        fn();
        db.exec('COMMIT');
      } catch (err) {
        // SQLite may have ended the transaction itself (disk full, I/O error): keep the first error.
        try {
          db.exec('ROLLBACK');
        } catch {}
        throw err;
      }
    },
    close: () => db.close(),
  };
}

/**
 * A store's database: its folder made, the file opened (or ':memory:'), its schema applied; any
 * failure is one INVALID_ARG naming the store (`what`: "profile", "tuning", "results") and the file.
 */
export function openStore(file: string, schema: string, what: string): SqlDatabase {
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return openDatabase(file, schema);
  } catch (err) {
    throw errors.invalidArg(`${what} database ${JSON.stringify(file)} cannot be opened: ${(err as Error).message}`);
  }
}

/** The driver this process uses (chosen once); throws, naming both, when neither loads. */
export function sqliteDriver(): Driver {
  chosen ??= choose(process.env.TENANCY_SQLITE);
  if (chosen instanceof Error) throw chosen;
  return chosen;
}

/** Why no SQLite driver loads here, or null when one does. */
export function sqliteMissing(): string | null {
  try {
    sqliteDriver();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function choose(wanted: string | undefined): Driver | Error {
  if (wanted === 'none') return new Error('no SQLite driver: TENANCY_SQLITE=none');
  if (wanted !== undefined && wanted !== '' && wanted !== 'node:sqlite' && wanted !== 'better-sqlite3')
    return new Error(`TENANCY_SQLITE=${JSON.stringify(wanted)}: must be "node:sqlite", "better-sqlite3" or "none"`);
  const reasons: string[] = [];
  for (const load of wanted ? [LOADERS[wanted as SqliteDriver]] : [loadNodeSqlite, loadBetterSqlite3]) {
    try {
      return load();
    } catch (err) {
      reasons.push((err as Error).message.split('\n')[0]);
    }
  }
  return new Error(`no SQLite driver: ${reasons.join('; ')}`);
}

function loadNodeSqlite(): Driver {
  let mod: { DatabaseSync: new (file: string) => ReturnType<Driver['open']> };
  try {
    mod = withoutSqliteWarning(() => require('node:sqlite'));
  } catch {
    throw new Error(`Node.js ${process.version} has no node:sqlite (Node >= 22.13 has it)`);
  }
  return { name: 'node:sqlite', open: (file) => new mod.DatabaseSync(file) };
}

function loadBetterSqlite3(): Driver {
  let Database: new (file: string) => ReturnType<Driver['open']>;
  try {
    Database = require('better-sqlite3');
    new Database(':memory:').close(); // the native module loads on first open: fail here, not later
  } catch (err) {
    throw new Error(`better-sqlite3 cannot be loaded (${(err as Error).message.split('\n')[0]})`);
  }
  return { name: 'better-sqlite3', open: (file) => new Database(file) };
}

const LOADERS: Record<SqliteDriver, () => Driver> = {
  'node:sqlite': loadNodeSqlite,
  'better-sqlite3': loadBetterSqlite3,
};

/** node:sqlite prints an ExperimentalWarning when first loaded; tenancy chose it knowingly, so not on the console. */
function withoutSqliteWarning<T>(load: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite/i.test(text)) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return load();
  } finally {
    process.emitWarning = emit;
  }
}
