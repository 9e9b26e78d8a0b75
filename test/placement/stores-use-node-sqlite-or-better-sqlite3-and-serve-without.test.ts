import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import path from 'node:path';
import { createRequire } from 'node:module';
import { BUSY_TIMEOUT_MS, openDatabase, sqliteDriver } from '../../src/sqlite.js';
import { classifierRepo, classifierInput, removeDir, tempDir } from '../fixtures/repo.js';
import { HttpClient } from '../../src/client/index.js';
import { FREE_PORTS, startServe } from '../fixtures/serve-process.js';

const run = promisify(execFile);

function hasNodeSqlite(): boolean {
  try {
    createRequire(import.meta.url)('node:sqlite');
    return true;
  } catch {
    return false;
  }
}

/** Runs a few lines with src/sqlite.ts in a fresh process (the driver is chosen once per process). */
async function inChild(env: Record<string, string>, body: string): Promise<{ out: string; err: string; code: number }> {
  const script = `import { openDatabase, sqliteDriver } from './src/sqlite.ts';\n${body}`;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, ...env },
    });
    return { out: stdout.trim(), err: stderr, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { out: err.stdout.trim(), err: err.stderr, code: err.code };
  }
}

test("the driver is Node's own node:sqlite where it exists, else better-sqlite3", () => {
  assert.equal(sqliteDriver().name, hasNodeSqlite() ? 'node:sqlite' : 'better-sqlite3');
});

test('a transaction commits when its function returns and rolls back when it throws', () => {
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
  db.transaction(() => {
    db.prepare('INSERT INTO t VALUES (?, ?)').run('a', 1);
    db.prepare('INSERT INTO t VALUES (?, ?)').run('b', 2);
  });
  assert.throws(
    () =>
      db.transaction(() => {
        db.prepare('INSERT INTO t VALUES (?, ?)').run('c', 3);
        db.prepare('INSERT INTO t VALUES (?, ?)').run('a', 9); // primary key taken: throws
      }),
    /UNIQUE/,
  );
  assert.deepEqual(
    db
      .prepare('SELECT k, v FROM t ORDER BY k')
      .all()
      .map((r) => ({ ...(r as object) })),
    [
      { k: 'a', v: 1 },
      { k: 'b', v: 2 },
    ],
  );
  db.close();
});

test('a transaction whose SQL ended it already throws its own error, not the failed ROLLBACK', () => {
  const db = openDatabase(':memory:');
  assert.throws(
    () =>
      db.transaction(() => {
        db.exec('ROLLBACK'); // as SQLite does itself on a full disk or an I/O error
        throw new Error('the first error');
      }),
    /^Error: the first error$/,
  );
  db.close();
});

test('a writer waits for another process to finish its write instead of failing at once', async () => {
  const dir = await tempDir();
  try {
    const file = path.join(dir, 'busy.db');
    const db = openDatabase(file);
    db.exec('CREATE TABLE t (v TEXT)');
    assert.deepEqual({ ...(db.prepare('PRAGMA busy_timeout').get() as object) }, { timeout: BUSY_TIMEOUT_MS });
    // Another process takes the write lock, says so, holds it 600 ms, then commits.
    const holder = `import { openDatabase } from './src/sqlite.ts';
      const db = openDatabase(${JSON.stringify(file)});
      db.exec('BEGIN IMMEDIATE'); db.prepare('INSERT INTO t VALUES (?)').run('first');
      console.log('locked');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
      db.exec('COMMIT'); db.close();`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', holder], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.includes('locked') && resolve()));
    db.transaction(() => void db.prepare('INSERT INTO t VALUES (?)').run('second')); // waits for the commit
    assert.deepEqual(
      db
        .prepare('SELECT v FROM t ORDER BY rowid')
        .all()
        .map((r) => (r as { v: string }).v),
      ['first', 'second'],
    );
    db.close();
    await once(child, 'exit');
  } finally {
    await removeDir(dir);
  }
});

test('a database file is written in WAL mode and read back by a second connection', async () => {
  const dir = await tempDir();
  try {
    const file = path.join(dir, 'x.db');
    const a = openDatabase(file);
    a.exec('CREATE TABLE t (v TEXT)');
    a.prepare('INSERT INTO t VALUES (?)').run('kept');
    const b = openDatabase(file);
    assert.deepEqual({ ...(b.prepare('SELECT v FROM t').get() as object) }, { v: 'kept' });
    assert.deepEqual({ ...(b.prepare('PRAGMA journal_mode').get() as object) }, { journal_mode: 'wal' });
    a.close();
    b.close();
  } finally {
    await removeDir(dir);
  }
});

test('TENANCY_SQLITE picks a driver, and one that cannot load is named with the reason', async () => {
  const forced = await inChild({ TENANCY_SQLITE: 'better-sqlite3' }, 'console.log(sqliteDriver().name);');
  // Without node:sqlite (Node 20) better-sqlite3 is the only driver, so it must load; on a newer
  // Node it may be missing or built for another Node, and must then say so.
  if (forced.code === 0 || !hasNodeSqlite()) assert.equal(forced.out, 'better-sqlite3', forced.err);
  else assert.match(forced.err, /better-sqlite3 cannot be loaded/);
  const builtIn = await inChild({ TENANCY_SQLITE: 'node:sqlite' }, 'console.log(sqliteDriver().name);');
  if (hasNodeSqlite()) assert.equal(builtIn.out, 'node:sqlite');
  else
    assert.match(builtIn.err, new RegExp(`Node.js ${process.version} has no node:sqlite \\(Node >= 22.13 has it\\)`));
  const none = await inChild(
    { TENANCY_SQLITE: 'none' },
    "const { History } = await import('./src/bench/history.ts'); new History(':memory:');",
  );
  assert.match(
    none.err,
    /results database ":memory:": no SQLite driver: TENANCY_SQLITE=none \(--no-db runs without it\)/,
  );
  const bad = await inChild({ TENANCY_SQLITE: 'postgres' }, "openDatabase(':memory:');");
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /TENANCY_SQLITE="postgres": must be "node:sqlite", "better-sqlite3" or "none"/);
});

test('without any SQLite the server says tunings are not remembered, and serves', async () => {
  const repo = await classifierRepo();
  const db = path.join(repo, 'profiles.db');
  const serve = await startServe(['--repo', repo, ...FREE_PORTS, '--profiles', db], { TENANCY_SQLITE: 'none' });
  try {
    assert.match(
      serve.output(),
      /tunings are not remembered \(.*profiles\.db\): no SQLite driver: TENANCY_SQLITE=none/,
    );
    assert.match(serve.output(), /^live tuning \(not remembered: no SQLite driver\):$/m);
    const res = await new HttpClient(serve.url).infer('text_orientation', { x: classifierInput() });
    assert.ok(Object.keys(res.outputs).length > 0, JSON.stringify(res));
  } finally {
    await serve.stop();
    await removeDir(repo);
  }
});
