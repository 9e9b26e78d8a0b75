/**
 * Where the live tuner remembers what it found: one row per model file (sha256), device identity
 * (what it is, its cores, the runtime version: profile-store.ts's key) and input shapes, in the
 * same SQLite file as the profiles (default .tenancy/profiles.db), table `tuned`. A second start
 * serves the stored configuration from its first request; a changed model file, device or
 * runtime gives another key, so the model is tuned again. Delete the file to forget everything.
 */
import { openStore, type SqlDatabase } from '../sqlite.js';
import { deviceKey, type DeviceIdentity } from './profile-store.js';
import type { TuningPoint } from './tuning-search.js';

export interface StoredTuning {
  modelSha256: string;
  deviceKey: string;
  /** The input shapes it was tuned at, e.g. {"x":[3,48,192]} (per request, without the batch dim). */
  shapes: string;
  point: TuningPoint;
  /** Inferences/s served at the point, and at the start point, as the tuner measured them under live load. */
  throughput: number;
  startThroughput: number;
  trials: number;
  tuningMs: number;
  tunedAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS tuned (
  model_sha256 TEXT NOT NULL, device_key TEXT NOT NULL, shapes TEXT NOT NULL, model TEXT NOT NULL,
  identity TEXT NOT NULL, point TEXT NOT NULL, throughput REAL NOT NULL, start_throughput REAL NOT NULL,
  trials INTEGER NOT NULL, tuning_ms INTEGER NOT NULL, tuned_at TEXT NOT NULL,
  PRIMARY KEY (model_sha256, device_key, shapes)
);`;

interface Row {
  model_sha256: string;
  device_key: string;
  shapes: string;
  point: string;
  throughput: number;
  start_throughput: number;
  trials: number;
  tuning_ms: number;
  tuned_at: string;
}

export class TuningStore {
  private readonly db: SqlDatabase;

  constructor(readonly file: string) {
    this.db = openStore(file, SCHEMA, 'tuning');
  }

  /**
   * The tuning for these shapes; without shapes, the newest for the model file on the device (a
   * model with dynamic dims, before its first request).
   */
  get(modelSha256: string, identity: DeviceIdentity, shapes?: string): StoredTuning | null {
    const key = deviceKey(identity);
    const row = (
      shapes === undefined
        ? this.db
            .prepare('SELECT * FROM tuned WHERE model_sha256 = ? AND device_key = ? ORDER BY tuned_at DESC LIMIT 1')
            .get(modelSha256, key)
        : this.db
            .prepare('SELECT * FROM tuned WHERE model_sha256 = ? AND device_key = ? AND shapes = ?')
            .get(modelSha256, key, shapes)
    ) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  put(model: string, identity: DeviceIdentity, t: Omit<StoredTuning, 'deviceKey'>): StoredTuning {
    const key = deviceKey(identity);
    this.db
      .prepare('INSERT OR REPLACE INTO tuned VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(
        t.modelSha256,
        key,
        t.shapes,
        model,
        JSON.stringify(identity),
        JSON.stringify(t.point),
        t.throughput,
        t.startThroughput,
        t.trials,
        Math.round(t.tuningMs),
        t.tunedAt,
      );
    return { ...t, deviceKey: key };
  }

  list(): StoredTuning[] {
    return (this.db.prepare('SELECT * FROM tuned ORDER BY tuned_at').all() as Row[]).map(fromRow);
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row): StoredTuning {
  return {
    modelSha256: r.model_sha256,
    deviceKey: r.device_key,
    shapes: r.shapes,
    point: JSON.parse(r.point) as TuningPoint,
    throughput: r.throughput,
    startThroughput: r.start_throughput,
    trials: r.trials,
    tuningMs: r.tuning_ms,
    tunedAt: r.tuned_at,
  };
}
