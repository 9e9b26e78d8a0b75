/**
 * The engine's side of the tuning store: which key a model version has (its file's sha256, the
 * CPU's identity, the runtime version, its input shapes), the lookup the engine calls when it
 * loads a model whose config is silent, and what the tuner stores when it settles.
 */
import { stat } from 'node:fs/promises';
import { deviceIdentity, sha256File, type DeviceIdentity } from '../placement/index.js';
import type { TuningStore, StoredTuning } from '../placement/tuning-store.js';
import { cpuDevice, runtimeVersion, type Device } from '../runtime/index.js';
import type { StoredTuningLookup } from './engine.js';

export class TuningMemory {
  private readonly hashes = new Map<string, { key: string; sha: Promise<string> }>();
  /** What the lookup served per model name, with the shapes it was tuned at. */
  private readonly served = new Map<string, StoredTuning>();
  readonly identity: DeviceIdentity;

  constructor(
    readonly store: TuningStore,
    cpu: Device = cpuDevice(),
  ) {
    this.identity = deviceIdentity(cpu, runtimeVersion());
  }

  /** For EngineOptions.storedTuning: the stored tuning at these shapes (the newest one while its dims are dynamic). */
  readonly lookup: StoredTuningLookup = async (model: string, file: string, shapes: string | null) => {
    const t = this.store.get(await this.sha(file), this.identity, shapes ?? undefined);
    if (t) this.served.set(model, t);
    else this.served.delete(model);
    return t && { point: t.point, throughput: t.throughput, startThroughput: t.startThroughput, tunedAt: t.tunedAt };
  };

  /** What the engine served `model` from at its load, or null. */
  servedFor(model: string): StoredTuning | null {
    return this.served.get(model) ?? null;
  }

  /** The stored tuning of a model file at given shapes (a model with dynamic dims whose requests changed shape). */
  async at(file: string, shapes: string): Promise<StoredTuning | null> {
    return this.store.get(await this.sha(file), this.identity, shapes);
  }

  async remember(
    model: string,
    file: string,
    t: Omit<StoredTuning, 'deviceKey' | 'modelSha256'>,
  ): Promise<StoredTuning> {
    const saved = this.store.put(model, this.identity, { ...t, modelSha256: await this.sha(file) });
    this.served.set(model, saved);
    return saved;
  }

  /** The file's sha256, hashed once per path, size and modification time. */
  private async sha(file: string): Promise<string> {
    const s = await stat(file);
    const key = `${s.size}:${s.mtimeMs}`;
    const known = this.hashes.get(file);
    if (known?.key === key) return known.sha;
    const sha = sha256File(file);
    this.hashes.set(file, { key, sha });
    return sha;
  }
}
