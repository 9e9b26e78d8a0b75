/**
 * The model repository on disk: <repo>/<model>/config.json, <repo>/<model>/<version>/model.onnx,
 * optional labels. Scanning never fails as a whole: a model whose config or file is broken is
 * reported with its reason, and the others load.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { errors, TenancyError } from '../errors.js';
import { completeFromOnnx, validateModelConfig, type ModelConfig } from './model-config.js';
import { readOnnxMetadata } from './onnx-metadata.js';
import { readLabels } from './labels.js';
import { readWarmupData, type WarmupFileData } from './warmup-data.js';
import { checkModelName, isModelName } from './model-name.js';

/** One model folder as found on disk. */
export interface RepositoryEntry {
  name: string;
  dir: string;
  /** Version numbers with a model file, ascending. */
  versions: number[];
}

/** One version of a model, ready to be loaded: its file and its completed config. */
export interface VersionDefinition {
  version: number;
  file: string;
  config: ModelConfig;
  /** Labels per output name, from label_filename or the model folder's labels.txt. */
  labels: Record<string, string[]>;
  /** Warm-up inputs read from the model folder's warmup/ files, per sample. */
  warmupData: WarmupFileData;
}

export interface ModelDefinition {
  name: string;
  dir: string;
  /** Fields the config left out, which the engine then chooses (engine/serving-defaults.ts). */
  leftOut: { instanceGroup: boolean; dynamicBatching: boolean };
  /** The versions the config's version_policy selects, newest first. */
  versions: VersionDefinition[];
}

/** Lists the model folders of a repository. Throws only when the repository itself is missing. */
export async function scanRepository(repoDir: string): Promise<RepositoryEntry[]> {
  let names: string[];
  try {
    names = (await readdir(repoDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch (err) {
    throw errors.invalidArg(`model repository "${repoDir}" cannot be read: ${(err as Error).message}`, {
      repo: repoDir,
    });
  }
  const entries: RepositoryEntry[] = [];
  for (const name of names.sort()) {
    if (!isModelName(name)) continue;
    const dir = path.join(repoDir, name);
    entries.push({ name, dir, versions: await versionsOnDisk(dir) });
  }
  return entries;
}

async function versionsOnDisk(dir: string): Promise<number[]> {
  const list = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return list
    .filter((d) => d.isDirectory() && /^[1-9]\d*$/.test(d.name))
    .map((d) => Number(d.name))
    .sort((a, b) => a - b);
}

/**
 * Reads one model: validates its config (or the override, as the repository extension's load does),
 * applies the version policy, reads each selected version's inputs/outputs from its file.
 */
export async function readModelDefinition(repoDir: string, name: string, override?: unknown): Promise<ModelDefinition> {
  checkModelName(name);
  const dir = path.join(repoDir, name);
  if (!existsSync(dir))
    throw errors.modelNotFound(
      name,
      (await scanRepository(repoDir)).map((e) => e.name),
    );
  const { file: configFile, raw } =
    override !== undefined ? { file: path.join(dir, 'config.json'), raw: override } : await readConfig(dir, name);
  const base = validateModelConfig(raw, override !== undefined ? `${name} (config override)` : configFile, name);
  const given = raw as Record<string, unknown>;
  const leftOut = {
    instanceGroup: given.instance_group === undefined,
    dynamicBatching: given.dynamic_batching === undefined,
  };

  const onDisk = await versionsOnDisk(dir);
  const withFile: number[] = [];
  for (const v of onDisk) if (await isFile(path.join(dir, String(v), base.default_model_filename))) withFile.push(v);
  const selected = selectVersions(base, withFile, name);

  const versions: VersionDefinition[] = [];
  for (const version of selected) {
    const file = path.join(dir, String(version), base.default_model_filename);
    const meta = await readOnnxMetadata(file).catch((err) => {
      throw errors.invalidArg((err as Error).message, { file });
    });
    const config = completeFromOnnx(base, meta, configFile);
    versions.push({
      version,
      file,
      config,
      labels: await labelsFor(dir, config),
      warmupData: await readWarmupData(dir, config),
    });
  }
  return { name, dir, leftOut, versions };
}

function selectVersions(config: ModelConfig, available: number[], name: string): number[] {
  if (available.length === 0)
    throw errors.invalidArg(
      `model "${name}" has no version folder with ${config.default_model_filename} ` +
        `(expected ${name}/1/${config.default_model_filename})`,
      { model: name },
    );
  const p = config.version_policy;
  let chosen: number[];
  if ('latest' in p) chosen = available.slice(-p.latest.num_versions);
  else if ('all' in p) chosen = available;
  else {
    const missing = p.specific.versions.filter((v) => !available.includes(v));
    if (missing.length)
      throw errors.invalidArg(
        `model "${name}": version_policy.specific asks for version(s) ${missing.join(', ')}, ` +
          `which have no model file (on disk: ${available.join(', ')})`,
        { model: name },
      );
    chosen = p.specific.versions;
  }
  return [...chosen].sort((a, b) => b - a);
}

async function labelsFor(dir: string, config: ModelConfig): Promise<Record<string, string[]>> {
  const labels: Record<string, string[]> = {};
  for (const out of config.output) {
    if (out.label_filename) {
      labels[out.name] = await readLabels(path.join(dir, out.label_filename)).catch((err) => {
        throw errors.invalidArg(
          `model "${config.name}": output "${out.name}" label_filename cannot be read: ${(err as Error).message}`,
        );
      });
    }
  }
  const fallback = path.join(dir, 'labels.txt');
  if (config.output.length > 0 && !labels[config.output[0].name] && existsSync(fallback)) {
    labels[config.output[0].name] = await readLabels(fallback);
  }
  return labels;
}

/**
 * A model folder's config: config.pbtxt (Triton's) or config.json (the same fields as JSON), or
 * neither (everything completed from the model file). Both at once is refused: which one a reader
 * edits must not be a guess.
 */
async function readConfig(dir: string, name: string): Promise<{ file: string; raw: unknown }> {
  const json = path.join(dir, 'config.json');
  const pbtxt = path.join(dir, 'config.pbtxt');
  const hasPbtxt = await isFile(pbtxt);
  if (hasPbtxt && (await isFile(json)))
    throw errors.invalidArg(
      `model "${name}" has both config.pbtxt and config.json: keep one (they hold the same fields)`,
      {
        model: name,
      },
    );
  if (!hasPbtxt) return { file: json, raw: await readJson(json) };
  const text = await readFile(pbtxt, 'utf8').catch((err: Error) => {
    throw errors.invalidArg(`${pbtxt} cannot be read: ${err.message}`, { file: pbtxt });
  });
  // Loaded on the first config.pbtxt: the text-format parser costs ~45 ms of start-up otherwise.
  const { parsePbtxt } = await import('./triton-config.js');
  return { file: pbtxt, raw: parsePbtxt(text, pbtxt) };
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {}; // no config.json: everything is completed from the model file
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TenancyError('INVALID_ARG', `${file}: not valid JSON: ${(err as Error).message}`, { file });
  }
}

async function isFile(p: string): Promise<boolean> {
  return stat(p)
    .then((s) => s.isFile())
    .catch(() => false);
}
