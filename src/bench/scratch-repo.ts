/** Scratch model repositories for benchmarks and tests: a temporary folder, config patches, removal. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function tempDir(prefix = 'tenancy-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Shallow-merges `changes` into a model's config.json (a key set to undefined is removed). */
export async function patchConfig(repo: string, model: string, changes: Record<string, unknown>): Promise<void> {
  const file = path.join(repo, model, 'config.json');
  const config = JSON.parse(await readFile(file, 'utf8'));
  await writeFile(file, JSON.stringify({ ...config, ...changes }, null, 2));
}
