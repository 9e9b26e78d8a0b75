/**
 * Shared weights: the instances of one model file on the CPU read one copy of its weights. A host
 * writes the model once, optimized as ONNX Runtime runs it, with its initializers in an external
 * data file (ort-session.ts writeSharedWeightsModel); every instance then loads that copy by path
 * without optimizing again, and ONNX Runtime memory-maps the external data, so the sessions of all
 * worker threads and child processes read the same page-cache pages. (onnxruntime-node 1.30 refuses
 * a model in a SharedArrayBuffer, so sharing the bytes in place across threads is not possible.)
 *
 * This registry lives in the engine's process: it writes each file's copy once, counts the
 * instances using it and deletes it when the last one is gone, so a model reloaded with a new file
 * gets new bytes and the old ones go; copies left by a process that ended with instances loaded
 * are deleted when it exits, or, if it was killed, by the next engine process that shares weights.
 * docs/memory.md has the measurements.
 */
import { createHash } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runtimeVersion } from './runtime-version.js';

/** Instances share weights unless their model says share_weights false (measured: docs/memory.md). */
export const DEFAULT_SHARE_WEIGHTS = true;

/** Where shared-weights copies are written: TENANCY_WEIGHTS_DIR, or tenancy-weights in the temporary folder. */
export function sharedWeightsRoot(): string {
  return process.env.TENANCY_WEIGHTS_DIR || path.join(os.tmpdir(), 'tenancy-weights');
}

/** One instance's use of a shared-weights copy; release it when the instance's session is gone. */
export interface WeightsLease {
  /** The shared-weights model file to load. */
  file: string;
  release(): Promise<void>;
}

/** Writes the shared-weights model for `source` at `target` (a host does it: host.prepare). */
export type WriteSharedModel = (source: string, target: string) => Promise<void>;

interface Entry {
  dir: string;
  refs: number;
  ready: Promise<string>;
}

let nextEntry = 1;

export class SharedWeights {
  private readonly entries = new Map<string, Entry>();
  private swept: Promise<void> | undefined;

  constructor(private readonly root: () => string = sharedWeightsRoot) {
    // A process that ends with instances still loaded leaves no copies behind.
    process.once('exit', () => {
      for (const e of this.entries.values()) rmSync(e.dir, { recursive: true, force: true });
    });
  }

  /** Copies in use: source key → shared-weights file (for tests and diagnostics). */
  get files(): string[] {
    return [...this.entries.values()].map((e) => path.join(e.dir, 'model.onnx'));
  }

  /**
   * The shared-weights copy of `source`, written by `write` if no instance uses one of the same
   * bytes yet. Rejects with the reason when it cannot be written; the caller loads a private copy.
   */
  async acquire(source: string, write: WriteSharedModel): Promise<WeightsLease> {
    this.swept ??= sweepStale(this.root());
    await this.swept;
    const key = await sourceKey(source);
    let entry = this.entries.get(key);
    if (!entry) {
      // A fresh folder per entry: a copy being deleted never collides with its successor.
      const dir = path.join(this.root(), `${key}-${process.pid}-${nextEntry++}`);
      const created: Entry = { dir, refs: 0, ready: create(dir, source, write) };
      created.ready.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
      this.entries.set(key, created);
      entry = created;
    }
    const held = entry;
    held.refs++;
    let file: string;
    try {
      file = await held.ready;
    } catch (err) {
      held.refs--;
      throw err;
    }
    let released = false;
    return {
      file,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.refs > 0) return;
        if (this.entries.get(key) === held) this.entries.delete(key);
        await rm(held.dir, { recursive: true, force: true });
      },
    };
  }
}

/** The engine process's registry. */
export const sharedWeights = new SharedWeights();

/** Deletes copies left by engine processes that are gone (killed before they could delete them). */
async function sweepStale(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(/^[0-9a-f]+-(\d+)-\d+(\.partial)?$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await rm(path.join(root, name), { recursive: true, force: true }).catch(() => {});
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function create(dir: string, source: string, write: WriteSharedModel): Promise<string> {
  const partial = `${dir}.partial`;
  try {
    await mkdir(partial, { recursive: true });
    await write(source, path.join(partial, 'model.onnx'));
    await rename(partial, dir);
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
  return path.join(dir, 'model.onnx');
}

/**
 * The bytes of the file, the runtime and the processor: the optimized copy holds layouts chosen
 * for this processor by this ONNX Runtime, and a file replaced under the same name is new bytes.
 */
async function sourceKey(file: string): Promise<string> {
  // Hashing a large file takes a while: a file unchanged since (same inode, size and times) keeps its key.
  const st = await stat(file);
  const identity = `${file}\n${st.ino}\n${st.size}\n${st.mtimeMs}\n${st.ctimeMs}`;
  const known = keys.get(identity);
  if (known) return known;
  const hash = createHash('sha256');
  hash.update(`${runtimeVersion()}\n${os.cpus()[0]?.model ?? ''}\n${os.arch()}\n`);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const key = hash.digest('hex').slice(0, 20);
  if (keys.size > 256) keys.clear();
  keys.set(identity, key);
  return key;
}

const keys = new Map<string, string>();
