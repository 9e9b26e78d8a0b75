/**
 * The profile store: measured profiles in SQLite (src/sqlite.ts), keyed by the model file's
 * sha256 and the device's identity (its id, what it is, and the runtime version), so a profile is
 * reused until the model file, the device or the runtime changes. Any of those changing gives a
 * new key, and the profiler measures again; old rows stay until `--force` or deletion.
 *
 * A separate file (default .tenancy/profiles.db) rather than a table of the bench's results
 * database: profiles are a cache the server reads at start, with their own lifecycle (delete the
 * file and they are measured again), while bench runs are history to compare.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { openStore, type SqlDatabase } from '../sqlite.js';
import type { ModelProfile, ProfilePoint } from './types.js';

export const DEFAULT_PROFILE_DB = path.join('.tenancy', 'profiles.db');

/** What makes a device's measurements valid: equal identities give equal figures. */
export interface DeviceIdentity {
  /** e.g. "cpu", "cpu:big", "gpu:0". */
  device: string;
  /** CPU model, or the GPU provider's description. */
  hardware: string;
  /** Core ids the device may use (CPU devices); empty otherwise. */
  cores: number[];
  /** e.g. "onnxruntime-node 1.30.0". */
  runtime: string;
}

export interface StoredProfile {
  modelSha256: string;
  deviceKey: string;
  identity: DeviceIdentity;
  profile: ModelProfile;
  /** ISO time of the measurement. */
  measuredAt: string;
  /** How it was measured (windows, batch sizes), for the record. */
  settings: Record<string, unknown>;
}

/** A stable key for an identity: a hash of its fields in a fixed order. */
export function deviceKey(identity: DeviceIdentity): string {
  const canonical = JSON.stringify([
    identity.device,
    identity.hardware,
    [...identity.cores].sort((a, b) => a - b),
    identity.runtime,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS profiles (
  model_sha256 TEXT NOT NULL, device_key TEXT NOT NULL, model TEXT NOT NULL, device TEXT NOT NULL,
  identity TEXT NOT NULL, points TEXT NOT NULL, settings TEXT NOT NULL, measured_at TEXT NOT NULL,
  PRIMARY KEY (model_sha256, device_key)
);`;

interface Row {
  model_sha256: string;
  device_key: string;
  model: string;
  device: string;
  identity: string;
  points: string;
  settings: string;
  measured_at: string;
}

export class ProfileStore {
  private readonly db: SqlDatabase;

  constructor(readonly file: string = DEFAULT_PROFILE_DB) {
    this.db = openStore(file, SCHEMA, 'profile');
  }

  /** The stored profile for this model file on this device, named as `model` (a file may serve under several names). */
  get(modelSha256: string, identity: DeviceIdentity, model: string): StoredProfile | null {
    const key = deviceKey(identity);
    const row = this.db
      .prepare('SELECT * FROM profiles WHERE model_sha256 = ? AND device_key = ?')
      .get(modelSha256, key) as Row | undefined;
    return row ? fromRow(row, model) : null;
  }

  put(
    modelSha256: string,
    identity: DeviceIdentity,
    profile: ModelProfile,
    settings: Record<string, unknown> = {},
    measuredAt = new Date(),
  ): StoredProfile {
    const key = deviceKey(identity);
    this.db
      .prepare('INSERT OR REPLACE INTO profiles VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(
        modelSha256,
        key,
        profile.model,
        profile.device,
        JSON.stringify(identity),
        JSON.stringify(profile.points),
        JSON.stringify(settings),
        measuredAt.toISOString(),
      );
    return { modelSha256, deviceKey: key, identity, profile, measuredAt: measuredAt.toISOString(), settings };
  }

  /** Every stored profile, oldest first. */
  list(): StoredProfile[] {
    return (this.db.prepare('SELECT * FROM profiles ORDER BY measured_at').all() as Row[]).map((r) =>
      fromRow(r, r.model),
    );
  }

  close(): void {
    this.db.close();
  }
}

function fromRow(r: Row, model: string): StoredProfile {
  const identity = JSON.parse(r.identity) as DeviceIdentity;
  const points = JSON.parse(r.points) as ProfilePoint[];
  return {
    modelSha256: r.model_sha256,
    deviceKey: r.device_key,
    identity,
    measuredAt: r.measured_at,
    settings: JSON.parse(r.settings) as Record<string, unknown>,
    profile: { model, device: r.device, points },
  };
}
