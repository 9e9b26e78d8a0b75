/**
 * The protocol's read-only answers, shared by HTTP and gRPC: server and model metadata, readiness,
 * the repository index and statistics, all computed from the engine when asked.
 */
import { createRequire } from 'node:module';
import type { Engine, ModelStatistics } from '../../engine/index.js';
import { modelNames } from '../../repository/index.js';
import { tensorDataType, type TensorConfig } from '../../repository/index.js';
import { parseVersion } from './infer.js';
import type { ServeContext } from '../context.js';

/** The extensions this server implements, as Triton names them in GET /v2. */
export const EXTENSIONS = [
  'classification',
  'model_repository',
  'model_configuration',
  'binary_tensor_data',
  'parameters',
  'statistics',
];

// package.json is three folders up from both src/server/oip and dist/server/oip.
const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** `sharedMemory`: the server lets clients register system shared memory (--allow-client-shm). */
export function serverMetadata(sharedMemory: boolean) {
  return {
    name: 'tenancy',
    version: pkg.version,
    extensions: sharedMemory ? [...EXTENSIONS, 'system_shared_memory'] : EXTENSIONS,
  };
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export function modelMetadata(engine: Engine, name: string, version?: string) {
  const v = parseVersion(version);
  const model = engine.model(name, v);
  const versions = engine
    .loaded()
    .filter((m) => m.name === name)
    .map((m) => String(m.version));
  const batch = model.config.max_batch_size > 0;
  const tensor = (t: TensorConfig): TensorMetadata => ({
    name: t.name,
    datatype: tensorDataType(t),
    shape: batch ? [-1, ...t.dims] : [...t.dims],
  });
  return {
    name,
    versions: v === undefined ? versions : [String(v)],
    platform: model.config.platform,
    inputs: model.config.input.map(tensor),
    outputs: model.config.output.map(tensor),
  };
}

export function modelConfig(engine: Engine, name: string, version?: string) {
  return engine.model(name, parseVersion(version)).config;
}

/** A model is ready when the asked (or newest) version is loaded and ready; unknown models are not. */
export function modelReady(engine: Engine, name: string, version?: string): boolean {
  try {
    return engine.model(name, parseVersion(version)).state === 'ready';
  } catch {
    return false;
  }
}

/**
 * Ready: not starting (the loads asked for at start have ended), not closing and, with strict
 * readiness (tritonserver's --strict-readiness, the default), every model it was asked to serve
 * is ready (an unloaded one does not count).
 */
export function serverReady(ctx: Pick<ServeContext, 'engine' | 'closing' | 'starting' | 'strictReadiness'>): boolean {
  if (ctx.closing() || ctx.starting()) return false;
  if (!ctx.strictReadiness) return true;
  return ctx.engine.index().every((r) => r.state === 'READY' || (r.state === 'UNAVAILABLE' && r.reason === 'unloaded'));
}

export interface IndexRow {
  name: string;
  version?: string;
  state?: string;
  reason?: string;
}

/** Models on disk joined with the engine's states; a model never loaded has its name only, as in Triton. */
export async function repositoryIndex(engine: Engine, readyOnly = false): Promise<IndexRow[]> {
  const rows: IndexRow[] = engine
    .index()
    .map((r) => ({ name: r.name, ...(r.version ? { version: r.version } : {}), state: r.state, reason: r.reason }));
  const known = new Set(rows.map((r) => r.name));
  for (const name of await modelNames(engine.repositories)) if (!known.has(name)) rows.push({ name });
  rows.sort((a, b) => a.name.localeCompare(b.name) || Number(a.version ?? 0) - Number(b.version ?? 0));
  return readyOnly ? rows.filter((r) => r.state === 'READY') : rows;
}

export function statistics(engine: Engine, name?: string, version?: string): { model_stats: ModelStatistics[] } {
  const v = parseVersion(version);
  if (name === undefined || name === '') return { model_stats: engine.stats() };
  if (v !== undefined) engine.model(name, v); // NOT_FOUND naming the version when it is not loaded
  return { model_stats: engine.stats(name).filter((s) => v === undefined || s.version === String(v)) };
}
