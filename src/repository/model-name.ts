/**
 * What a model name may be. A name becomes a folder (`<repo>/<name>`, an upload's
 * `<tmp>/<name>`), so it is checked before any path is built from it: `..`, `.` or a name with a
 * slash would leave the repository (a load of `..%2f..%2fx` with files wrote outside the upload
 * folder before its name was refused).
 */
import { errors } from '../errors.js';
import { preview } from '../preview.js';

const MODEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** A file name's limit on common file systems. */
const MAX_NAME_LENGTH = 255;

export function isModelName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= MAX_NAME_LENGTH && MODEL_NAME.test(name);
}

/** Throws INVALID_ARG naming the value unless `name` can be a model's folder. */
export function checkModelName(name: unknown): string {
  if (!isModelName(name))
    throw errors.invalidArg(
      `invalid model name ${preview(name)}: ` +
        `use up to ${MAX_NAME_LENGTH} letters, digits, _ . - (not starting with . or -)`,
    );
  return name;
}
