/**
 * Model files sent with a load request (Triton's repository extension: `file:<path>` parameters
 * beside `config`, what tritonclient's `load_model(name, config=..., files=...)` sends), so a
 * client can push a model to a box that shares no file system with it. The files are written to
 * a private temporary repository holding only that model, and the model loads from there; a later
 * load without files goes back to the model repository. Paths are relative to the model's folder
 * (`1/model.onnx`, `labels.txt`) and may not leave it.
 */
import { constants as fsConstants } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errors } from '../errors.js';
import { preview } from '../preview.js';
import { checkModelName } from './model-name.js';

/** The parameter prefix that marks a file. */
export const FILE_PARAMETER = 'file:';

/** A temporary repository with one uploaded model in it. */
export interface UploadedModel {
  /** The repository folder (holds `<name>/...`): pass it where a repository path goes. */
  repository: string;
  remove(): Promise<void>;
}

/** Checks one file's path: relative, inside the model folder, no odd segments. */
export function uploadPath(name: string, relative: string): string {
  const parts = relative.split('/');
  const bad =
    relative === '' ||
    relative.length > MAX_PATH_LENGTH ||
    relative.startsWith('/') ||
    relative.includes('\\') ||
    relative.includes('\0') ||
    parts.some((p) => p === '' || p === '.' || p === '..');
  if (bad)
    throw errors.invalidArg(
      `load of model "${name}": file parameter ${preview(FILE_PARAMETER + relative)} ` +
        `must name a path inside the model's folder, like "${FILE_PARAMETER}1/model.onnx"`,
    );
  return parts.join(path.sep);
}

const MAX_PATH_LENGTH = 1024;

/**
 * Writes the files into a new private folder. Everything is checked before the first byte is
 * written (the name, every path), and each file is opened with O_EXCL|O_NOFOLLOW at a path that
 * must resolve inside the folder: nothing is written outside it, nor through a link.
 */
export async function writeUploadedModel(name: string, files: Record<string, Uint8Array>): Promise<UploadedModel> {
  checkModelName(name);
  const entries = Object.entries(files).map(([relative, bytes]) => [uploadPath(name, relative), bytes] as const);
  const repository = await mkdtemp(path.join(os.tmpdir(), 'tenancy-upload-'));
  const remove = () => rm(repository, { recursive: true, force: true });
  try {
    const dir = path.join(repository, name);
    for (const [relative, bytes] of entries) {
      const file = path.resolve(dir, relative);
      if (!file.startsWith(dir + path.sep))
        throw errors.invalidArg(
          `load of model "${name}": file ${preview(relative)} resolves outside the model's folder`,
        );
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const handle = await open(
        file,
        fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
        0o600,
      );
      try {
        await handle.writeFile(bytes);
      } finally {
        await handle.close();
      }
    }
    return { repository, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
