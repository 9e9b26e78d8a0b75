/**
 * What a run was measured on, stored with it so runs can be compared later: the machine (CPU
 * model, cores, memory), Node and onnxruntime versions, the project's commit (read from .git
 * without running git), and the sha256 of every model file measured.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Target } from './target.js';

export interface ModelFileInfo {
  model: string;
  file: string | null;
  sha256: string | null;
  bytes: number | null;
}

export interface Environment {
  hostname: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  node: string;
  onnxruntime: string | null;
  tenancy: string | null;
  commit: string | null;
  target: string;
  models: ModelFileInfo[];
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | null {
  try {
    return (
      (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version?: string }).version ??
      null
    );
  } catch {
    return null;
  }
}

function ownVersion(): string | null {
  const file = findUp(path.dirname(new URL(import.meta.url).pathname), 'package.json');
  if (!file) return null;
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
  return pkg.name === 'tenancy' ? (pkg.version ?? null) : null;
}

function findUp(dir: string, name: string): string | null {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, name))) return path.join(d, name);
    if (path.dirname(d) === d) return null;
  }
}

/** The commit checked out in the project's .git (a folder), or null outside a git checkout. */
export function gitCommit(start = path.dirname(new URL(import.meta.url).pathname)): string | null {
  const git = findUp(start, '.git');
  try {
    if (!git || !statSync(git).isDirectory()) return null;
    const head = readFileSync(path.join(git, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return /^[0-9a-f]{40}$/.test(head) ? head : null;
    const ref = head.slice(5);
    const loose = path.join(git, ref);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
    const packed = path.join(git, 'packed-refs');
    if (!existsSync(packed)) return null;
    const line = readFileSync(packed, 'utf8')
      .split('\n')
      .find((l) => l.endsWith(` ${ref}`));
    return line ? line.split(' ')[0] : null;
  } catch {
    return null;
  }
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

export async function collectEnvironment(target: Target, models: string[]): Promise<Environment> {
  const files: ModelFileInfo[] = [];
  for (const model of models) {
    const file = await target.modelFile(model).catch(() => null);
    files.push({ model, file, sha256: file ? await sha256File(file) : null, bytes: file ? statSync(file).size : null });
  }
  return {
    hostname: os.hostname(),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    node: process.version,
    onnxruntime: packageVersion('onnxruntime-node'),
    tenancy: ownVersion(),
    commit: gitCommit(),
    target: target.description,
    models: files,
  };
}
