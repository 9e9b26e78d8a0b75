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
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { runtimeVersion } from './runtime-version.js';
import type { SessionOptions } from './session.js';

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
  /** The session options chosen for this model's shared copy (leanSessionDefaults), and why. */
  defaults: LeanDefaults;
  release(): Promise<void>;
}

/** What the choice of session options looks at in a shared copy's graph (its top level). */
export interface GraphTraits {
  nodes: number;
  /** Bytes of the external data file: the weights that the sessions map. */
  weightBytes: number;
  /** Conv nodes (ONNX Runtime's fused and NCHWc kinds included). */
  convs: number;
  /** MatMul and Gemm nodes (and their fused kinds) whose weight input B is an initializer. */
  weightGemms: number;
}

export interface LeanDefaults {
  prepacking?: false;
  memPattern?: false;
  /** One line per choice, for logs and docs/memory.md. */
  why: string[];
}

/**
 * The weight bytes per node from which a model's runs are long enough that ONNX Runtime's memory
 * pattern buys no measurable speed (docs/memory.md): MobileNet V2 (240 KiB per node) and ResNet-50
 * (1.7 MiB) ran as fast without it, the text-orientation classifier (2.4 KiB) lost 6%.
 */
export const NO_MEM_PATTERN_BYTES_PER_NODE = 64 * 1024;

/**
 * The weights below which prepacking stays on: the packed copy it saves is then well under a
 * megabyte, and with prepacking off a batched run's answers differ from a single run's in the
 * last bit (the text classifier's did, 3e-8: a request's answer should not depend on what it
 * was batched with for so little).
 */
export const NO_PREPACK_MIN_WEIGHT_BYTES = 4 * 2 ** 20;

/**
 * Session options for the instances of a shared copy that save memory where it costs no
 * throughput (measured per model: docs/memory.md), unless the instance's options say otherwise:
 * - prepacking off for a convolutional network whose only weights kept as GEMMs are its classifier
 *   head (at most 2 such nodes): ONNX Runtime repacks those weights into a private copy per session
 *   (8 MB for ResNet-50, 5 MB for MobileNet V2), the one thing that sharing did not share, for a
 *   layer that does < 1% of the work. A model built of MatMuls (transformers) keeps its prepacking,
 *   and so does a small model (NO_PREPACK_MIN_WEIGHT_BYTES).
 * - memory pattern off where the nodes are heavy (NO_MEM_PATTERN_BYTES_PER_NODE): the pattern keeps a
 *   planned buffer per session (2-6 MB) to save allocations that cost nothing next to such nodes.
 * Pure: tested by tables.
 */
export function leanSessionDefaults(t: GraphTraits): LeanDefaults {
  const out: LeanDefaults = { why: [] };
  if (t.convs > 0 && t.weightGemms > 0 && t.weightGemms <= 2 && t.weightBytes >= NO_PREPACK_MIN_WEIGHT_BYTES) {
    out.prepacking = false;
    out.why.push(`prepacking off: a convolutional network with ${t.weightGemms} GEMM weight(s) (its classifier)`);
  }
  const perNode = t.nodes > 0 ? t.weightBytes / t.nodes : 0;
  if (perNode >= NO_MEM_PATTERN_BYTES_PER_NODE) {
    out.memPattern = false;
    out.why.push(`memory pattern off: ${Math.round(perNode / 1024)} KiB of weights per node`);
  }
  return out;
}

/** The options an instance loads a shared copy with: its own where it states them, the copy's defaults elsewhere. */
export function withLeanDefaults(session: SessionOptions, defaults: LeanDefaults): SessionOptions {
  return {
    ...session,
    preoptimized: true,
    prepacking: session.prepacking ?? defaults.prepacking,
    memPattern: session.memPattern ?? defaults.memPattern,
  };
}

const GEMMS = new Set(['MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm', 'MatMulInteger', 'QGemm', 'MatMulNBits']);

/** Reads a shared copy's graph (small: its weights are in the external data file). */
export async function graphTraits(file: string): Promise<GraphTraits> {
  const { graph } = onnxProto.onnx.ModelProto.decode(await readFile(file));
  const data = await stat(path.join(path.dirname(file), WEIGHTS_DATA)).catch(() => undefined);
  const initializers = new Set((graph?.initializer ?? []).map((i) => i.name));
  const nodes = graph?.node ?? [];
  return {
    nodes: nodes.length,
    weightBytes: data?.size ?? 0,
    convs: nodes.filter((n) => /Conv/.test(n.opType ?? '')).length,
    weightGemms: nodes.filter((n) => GEMMS.has(n.opType ?? '') && initializers.has(n.input?.[1] ?? '')).length,
  };
}

/**
 * The weights file beside a shared copy: ort-session.ts SHARED_WEIGHTS_DATA, which writes it. Not
 * imported from there, since that would load onnxruntime-node in the engine's thread (a test checks
 * that the two agree).
 */
export const WEIGHTS_DATA = 'weights.bin';

/** Writes the shared-weights model for `source` at `target` (a host does it: host.prepare). */
export type WriteSharedModel = (source: string, target: string) => Promise<void>;

interface Entry {
  dir: string;
  refs: number;
  ready: Promise<{ file: string; defaults: LeanDefaults }>;
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
    let copy: { file: string; defaults: LeanDefaults };
    try {
      copy = await held.ready;
    } catch (err) {
      held.refs--;
      throw err;
    }
    let released = false;
    return {
      ...copy,
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

async function create(
  dir: string,
  source: string,
  write: WriteSharedModel,
): Promise<{ file: string; defaults: LeanDefaults }> {
  const partial = `${dir}.partial`;
  try {
    await mkdir(partial, { recursive: true });
    await write(source, path.join(partial, 'model.onnx'));
    await rename(partial, dir);
  } catch (err) {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    throw err;
  }
  const file = path.join(dir, 'model.onnx');
  // A graph that cannot be read here (ONNX Runtime wrote it, so this is unexpected) keeps ONNX Runtime's defaults.
  const defaults = await graphTraits(file).then(leanSessionDefaults, () => ({ why: [] }));
  return { file, defaults };
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
