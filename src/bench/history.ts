/**
 * The results database (SQLite: src/sqlite.ts): every run with its environment, settings, summary
 * and every measured setting, so runs made on different days, commits or devices can be compared.
 * Columns hold what is queried; the rest is JSON beside them.
 */
import path from 'node:path';
import { errors } from '../errors.js';
import { openStore, sqliteMissing, type SqlDatabase } from '../sqlite.js';
import type { Environment } from './environment.js';
import type { ExperimentResult, ResultRow, SummaryRow } from './experiment.js';

export const DEFAULT_DB_PATH = path.join('.tenancy', 'bench.db');

export interface StoredRun {
  id: string;
  experiment: string;
  startedAt: string;
  finishedAt: string;
  environment: Environment;
  settings: Record<string, unknown>;
  summary: SummaryRow[];
  rows: ResultRow[];
  notes: string[];
  reportDir: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, experiment TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
  target TEXT, cpu_model TEXT, cores INTEGER, memory_bytes INTEGER, node TEXT, onnxruntime TEXT, commit_sha TEXT,
  settings TEXT NOT NULL, environment TEXT NOT NULL, summary TEXT NOT NULL, notes TEXT NOT NULL, report_dir TEXT
);
CREATE TABLE IF NOT EXISTS run_models (
  run_id TEXT NOT NULL REFERENCES runs(id), model TEXT NOT NULL, file TEXT, sha256 TEXT, bytes INTEGER,
  PRIMARY KEY (run_id, model)
);
CREATE TABLE IF NOT EXISTS results (
  run_id TEXT NOT NULL REFERENCES runs(id), seq INTEGER NOT NULL, phase TEXT NOT NULL, model TEXT NOT NULL,
  level INTEGER NOT NULL, batch_size INTEGER NOT NULL, load TEXT, setup TEXT,
  throughput REAL, request_rate REAL, latency_avg_ms REAL, latency_p50_ms REAL, latency_p90_ms REAL,
  latency_p95_ms REAL, latency_p99_ms REAL, errors INTEGER, stable INTEGER, windows INTEGER,
  queue_us REAL, compute_infer_us REAL, compute_other_us REAL, cpu_process_pct REAL, cpu_system_pct REAL,
  loaded_bytes REAL, peak_bytes REAL,
  PRIMARY KEY (run_id, seq)
);`;

/** Row fields in column order; NaN is stored as NULL and read back as NaN. */
const RESULT_COLUMNS: [keyof ResultRow, string][] = [
  ['phase', 'phase'],
  ['model', 'model'],
  ['level', 'level'],
  ['batchSize', 'batch_size'],
  ['load', 'load'],
  ['setup', 'setup'],
  ['throughput', 'throughput'],
  ['requestRate', 'request_rate'],
  ['latencyAvgMs', 'latency_avg_ms'],
  ['latencyP50Ms', 'latency_p50_ms'],
  ['latencyP90Ms', 'latency_p90_ms'],
  ['latencyP95Ms', 'latency_p95_ms'],
  ['latencyP99Ms', 'latency_p99_ms'],
  ['errors', 'errors'],
  ['stable', 'stable'],
  ['windows', 'windows'],
  ['queueUs', 'queue_us'],
  ['computeInferUs', 'compute_infer_us'],
  ['computeOtherUs', 'compute_other_us'],
  ['cpuProcessPct', 'cpu_process_pct'],
  ['cpuSystemPct', 'cpu_system_pct'],
  ['loadedBytes', 'loaded_bytes'],
  ['peakBytes', 'peak_bytes'],
];

// Both drivers: booleans as 0/1, NaN/Infinity and undefined as NULL (node:sqlite refuses undefined).
const toSql = (v: unknown) =>
  typeof v === 'boolean' ? Number(v) : v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? null : v;
/** JSON has no NaN or Infinity: they are kept as strings. */
const jsonOut = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
const jsonIn = <T>(s: string): T =>
  JSON.parse(s, (_k, x) => (x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : x)) as T;

export class History {
  private readonly db: SqlDatabase;

  constructor(readonly file: string = DEFAULT_DB_PATH) {
    const missing = sqliteMissing();
    if (missing)
      throw errors.invalidArg(`results database ${JSON.stringify(file)}: ${missing} (--no-db runs without it)`);
    this.db = openStore(file, SCHEMA, 'results');
  }

  /** Stores a finished run; returns its id. */
  save(run: {
    experiment: string;
    startedAt: Date;
    finishedAt: Date;
    environment: Environment;
    settings: Record<string, unknown>;
    result: ExperimentResult;
    reportDir: string | null;
  }): string {
    const id =
      `${run.experiment}-${run.startedAt.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-` +
      `${Math.random().toString(16).slice(2, 6)}`;
    const env = run.environment;
    const insertRun = this.db.prepare(`INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertModel = this.db.prepare(`INSERT INTO run_models VALUES (?, ?, ?, ?, ?)`);
    const insertRow = this.db.prepare(
      `INSERT INTO results (run_id, seq, ${RESULT_COLUMNS.map((c) => c[1]).join(', ')}) VALUES (${Array(
        RESULT_COLUMNS.length + 2,
      )
        .fill('?')
        .join(', ')})`,
    );
    this.db.transaction(() => {
      insertRun.run(
        id,
        run.experiment,
        run.startedAt.toISOString(),
        run.finishedAt.toISOString(),
        env.target,
        env.cpuModel,
        env.cores,
        env.memoryBytes,
        env.node,
        env.onnxruntime,
        env.commit,
        jsonOut(run.settings),
        jsonOut(env),
        jsonOut(run.result.summary),
        jsonOut(run.result.notes),
        run.reportDir,
      );
      for (const m of env.models) insertModel.run(id, m.model, m.file, m.sha256, m.bytes);
      for (const [seq, r] of run.result.rows.entries())
        insertRow.run(id, seq, ...RESULT_COLUMNS.map(([k]) => toSql(r[k])));
    });
    return id;
  }

  /** Run ids, newest first. */
  list(limit = 20): { id: string; experiment: string; startedAt: string; commit: string | null }[] {
    return this.db
      .prepare(
        `SELECT id, experiment, started_at AS startedAt, commit_sha AS "commit" FROM runs ` +
          `ORDER BY started_at DESC LIMIT ?`,
      )
      .all(limit) as never;
  }

  /** A run by its id or a unique prefix of it. */
  load(idOrPrefix: string): StoredRun {
    const matches = this.db
      .prepare(`SELECT * FROM runs WHERE id = ? OR id LIKE ? ORDER BY id`)
      .all(idOrPrefix, `${idOrPrefix.replace(/[%_]/g, '')}%`) as Record<string, string>[];
    const exact = matches.find((m) => m.id === idOrPrefix);
    if (!exact && matches.length !== 1) {
      const known = this.list(5)
        .map((r) => r.id)
        .join(', ');
      throw errors.invalidArg(
        matches.length === 0
          ? `no run ${JSON.stringify(idOrPrefix)} in ${this.file} (latest: ${known || 'none'})`
          : `run ${JSON.stringify(idOrPrefix)} is ambiguous in ${this.file}: ${matches.map((m) => m.id).join(', ')}`,
      );
    }
    const r = exact ?? matches[0];
    const rows = (
      this.db.prepare(`SELECT * FROM results WHERE run_id = ? ORDER BY seq`).all(r.id) as Record<string, unknown>[]
    ).map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, col] of RESULT_COLUMNS) out[k] = row[col] === null ? NaN : row[col];
      out.stable = Boolean(out.stable);
      return out as unknown as ResultRow;
    });
    return {
      id: r.id,
      experiment: r.experiment,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      reportDir: r.report_dir,
      environment: jsonIn(r.environment),
      settings: jsonIn(r.settings),
      summary: jsonIn(r.summary),
      notes: jsonIn(r.notes),
      rows,
    };
  }

  /** Rows of a table for a run, as stored (for tests and ad-hoc checks). */
  count(table: 'runs' | 'run_models' | 'results', runId: string): number {
    const col = table === 'runs' ? 'id' : 'run_id';
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${col} = ?`).get(runId) as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
