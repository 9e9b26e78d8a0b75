/**
 * What the engine holds of one model name: the versions that serve it (newest first, each with
 * its own lifecycle, lifecycle.ts), why none does when none does (its first load is running, it
 * failed to load, it was unloaded), the queue that runs its loads, reconfigurations and unloads
 * one at a time, and the folder of files a load sent (removed when the versions from it stop).
 */
import { errors } from '../errors.js';
import type { UploadedModel } from '../repository/uploaded-files.js';
import { STATE_NAMES, UNLOADED, type ModelState } from './lifecycle.js';
import type { Model } from './model.js';

/** One row of the repository index, as the repository extension reports it. */
export interface ModelIndexEntry {
  name: string;
  version: string;
  state: (typeof STATE_NAMES)[ModelState];
  reason: string;
}

export class ModelRecord {
  private serving: readonly Model[] = [];
  /** The name's state while no version serves. */
  private absent: { state: ModelState; reason: string } = { state: 'loading', reason: '' };
  private queue: Promise<void> = Promise.resolve();
  private files?: UploadedModel;

  constructor(readonly name: string) {}

  get versions(): readonly Model[] {
    return this.serving;
  }

  /** The repository a reload reads: the files the serving versions were sent with, if any. */
  get upload(): UploadedModel | undefined {
    return this.files;
  }

  /** Runs `work` after the lifecycle work queued before it, whether that succeeded or not. */
  serialize(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => {});
    return run;
  }

  /** A first load is running (what the index says until a version serves). */
  loading(): void {
    if (this.serving.length === 0) this.absent = { state: 'loading', reason: '' };
  }

  /** A load failed: with no version serving, the name is unavailable for that reason; serving versions stay. */
  failed(err: unknown): void {
    if (this.serving.length === 0)
      this.absent = { state: 'unavailable', reason: err instanceof Error ? err.message : String(err) };
  }

  /** `models` serve from now on; returns the versions they replace (the caller unloads them). */
  serve(models: readonly Model[]): readonly Model[] {
    const old = this.serving;
    this.serving = models;
    return old;
  }

  /** The serving versions now come from `upload` (or the repository): returns the folder they replace, to remove. */
  adopt(upload: UploadedModel | undefined): UploadedModel | undefined {
    const previous = this.files;
    this.files = upload;
    return previous !== upload ? previous : undefined;
  }

  /** An unload began: while versions drain each says "unloading" itself. */
  unloading(): void {
    if (this.serving.length === 0) this.absent = { state: 'unloading', reason: '' };
  }

  /** Every version has stopped: the name stays in the index as unloaded; its uploaded files go. */
  async unloaded(): Promise<void> {
    this.serving = [];
    this.absent = { state: 'unavailable', reason: UNLOADED };
    const files = this.files;
    this.files = undefined;
    await files?.remove();
  }

  /** The version that serves a request: the given one, or the newest. */
  pick(version?: number): Model {
    if (this.serving.length === 0) throw errors.modelNotReady(this.name, this.absent.state, this.absent.reason);
    if (version === undefined) return this.serving[0];
    const m = this.serving.find((v) => v.version === version);
    if (!m)
      throw errors.versionNotFound(
        this.name,
        version,
        this.serving.map((v) => v.version),
      );
    return m;
  }

  /** Its rows of the repository index: one per serving version, or one for the name. */
  rows(): ModelIndexEntry[] {
    if (this.serving.length === 0)
      return [{ name: this.name, version: '', state: STATE_NAMES[this.absent.state], reason: this.absent.reason }];
    return this.serving.map((m) => ({
      name: this.name,
      version: String(m.version),
      state: STATE_NAMES[m.state],
      reason: m.reason,
    }));
  }
}
