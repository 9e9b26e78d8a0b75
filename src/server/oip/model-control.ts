/**
 * The model repository extension's actions, shared by HTTP and gRPC: load (with an optional config
 * override, Triton's `parameters.config` JSON string, and optional model files, `file:<path>`
 * parameters) and unload. In model control mode "none" the set of models is fixed at start, and in
 * "poll" the repository folder says what is loaded (engine/repository-poller.ts): as in Triton,
 * only "explicit" takes loads and unloads from clients.
 */
import { errors, TenancyError } from '../../errors.js';
import { preview } from '../../preview.js';
import type { Engine } from '../../engine/index.js';
import type { Parameters } from '../../protocol/types.js';
import { FILE_PARAMETER } from '../../repository/uploaded-files.js';
import { checkModelName } from '../../repository/index.js';
import { checkCount, REQUEST_LIMITS } from '../../protocol/limits.js';

export type ModelControlMode = 'none' | 'explicit' | 'poll';
export const MODEL_CONTROL_MODES: readonly ModelControlMode[] = ['none', 'explicit', 'poll'];

function checkMode(mode: ModelControlMode, action: string, name: string): void {
  if (mode !== 'explicit')
    throw new TenancyError(
      'UNAVAILABLE',
      `cannot ${action} model "${name}": model control mode is "${mode}" ` +
        '(start the server with --model-control-mode explicit)',
      { model: name },
    );
}

/**
 * `params` without the `file:` ones; `files` holds those (path inside the model's folder → bytes),
 * which each transport decodes (base64 strings over HTTP, bytes_param over gRPC). As in Triton,
 * files need a `config` to go with them.
 */
export async function loadModel(
  engine: Engine,
  mode: ModelControlMode,
  name: string,
  params: Parameters = {},
  files: Record<string, Uint8Array> = {},
): Promise<void> {
  checkMode(mode, 'load', name);
  checkModelName(name);
  const uploaded = Object.keys(files).length > 0;
  if (uploaded && params.config === undefined)
    throw errors.invalidArg(
      `load of model "${name}" sends files (${Object.keys(files)
        .map((f) => FILE_PARAMETER + f)
        .join(', ')}) without a "config" parameter: files need the model's config with them`,
    );
  let override: unknown;
  if (params.config !== undefined) {
    if (typeof params.config !== 'string')
      throw errors.invalidArg(`load parameter "config" must be a string of JSON, got ${preview(params.config)}`);
    try {
      override = JSON.parse(params.config);
    } catch (err) {
      throw errors.invalidArg(
        `load parameter "config" of model "${name}" is not valid JSON: ${(err as Error).message}`,
      );
    }
  }
  await engine.load(name, override, uploaded ? files : undefined);
}

export async function unloadModel(engine: Engine, mode: ModelControlMode, name: string): Promise<void> {
  checkMode(mode, 'unload', name);
  await engine.unload(name);
}

/** Splits a load's parameters into the plain ones and the `file:` ones, each file's value decoded by `bytes`. */
export function loadParameters<V>(
  name: string,
  raw: Record<string, V>,
  bytes: (value: V, what: string) => Uint8Array,
): { params: Record<string, V>; files: Record<string, Uint8Array> } {
  const params: Record<string, V> = {};
  const files: Record<string, Uint8Array> = {};
  const entries = Object.entries(raw);
  checkCount(entries.length, REQUEST_LIMITS.parameters, `load of model "${name}": parameters`);
  for (const [key, value] of entries) {
    if (key.startsWith(FILE_PARAMETER))
      files[key.slice(FILE_PARAMETER.length)] = bytes(value, `load of model "${name}": parameter "${key}"`);
    else params[key] = value;
  }
  return { params, files };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** HTTP sends a file's bytes as a base64 string (Triton's JSON for bytes). */
export function base64File(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string')
    throw errors.invalidArg(`${what} must be the file's bytes as a base64 string, got ${preview(value)}`);
  if (!BASE64.test(value))
    throw errors.invalidArg(
      `${what} is not valid base64 (${value.length} characters, starting ${preview(value.slice(0, 16))})`,
    );
  return Buffer.from(value, 'base64');
}
