/**
 * Several model repositories served as one (tritonserver's repeated --model-repository): one
 * namespace of model names over every folder. A name found in two repositories is not loaded from
 * either, as in Triton: which one was meant must not be a guess.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../errors.js';
import { checkModelName } from './model-name.js';
import { scanRepository, type RepositoryEntry } from './scan.js';

/** The repository folders a server reads, in the order given (at least one). */
export type RepositoryPaths = readonly string[];

/** The model folders of every repository, by name (a name in two repositories is listed twice). */
export async function scanRepositories(dirs: RepositoryPaths): Promise<RepositoryEntry[]> {
  const all = (await Promise.all(dirs.map((d) => scanRepository(d)))).flat();
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The names of the models of every repository, each once. */
export async function modelNames(dirs: RepositoryPaths): Promise<string[]> {
  return [...new Set((await scanRepositories(dirs)).map((e) => e.name))];
}

/**
 * The repository that holds model `name`. Throws NOT_FOUND when none does, and INVALID_ARG naming
 * the folders when more than one does.
 */
export async function locateModel(dirs: RepositoryPaths, name: string): Promise<string> {
  checkModelName(name);
  const holders: string[] = [];
  for (const dir of dirs)
    if (
      await stat(path.join(dir, name))
        .then((s) => s.isDirectory())
        .catch(() => false)
    )
      holders.push(dir);
  if (holders.length === 1) return holders[0];
  if (holders.length > 1)
    throw errors.invalidArg(
      `model "${name}" is in more than one model repository (${holders.join(', ')}): ` +
        'a model name must be unique across the --model-repository folders',
      { model: name },
    );
  throw errors.modelNotFound(name, await modelNames(dirs));
}

/** The repositories as one line for logs: "a" or "a, b". */
export const describeRepositories = (dirs: RepositoryPaths): string => dirs.join(', ');
