/**
 * The model repository extension's actions, shared by HTTP and gRPC: load (with an optional config
 * override, Triton's `parameters.config` JSON string) and unload. In model control mode "none" the
 * set of models is fixed at start, as in Triton.
 */
import { errors, TenancyError } from '../../errors.js';
import type { Engine } from '../../engine/index.js';
import type { Parameters } from './types.js';

export type ModelControlMode = 'none' | 'explicit';
export const MODEL_CONTROL_MODES: readonly ModelControlMode[] = ['none', 'explicit'];

function checkMode(mode: ModelControlMode, action: string, name: string): void {
  if (mode !== 'explicit')
    throw new TenancyError('UNAVAILABLE', `cannot ${action} model "${name}": model control mode is "${mode}" (start the server with --model-control-mode explicit)`, { model: name });
}

export async function loadModel(engine: Engine, mode: ModelControlMode, name: string, params: Parameters = {}): Promise<void> {
  checkMode(mode, 'load', name);
  let override: unknown;
  if (params.config !== undefined) {
    if (typeof params.config !== 'string') throw errors.invalidArg(`load parameter "config" must be a string of JSON, got ${JSON.stringify(params.config)}`);
    try {
      override = JSON.parse(params.config);
    } catch (err) {
      throw errors.invalidArg(`load parameter "config" of model "${name}" is not valid JSON: ${(err as Error).message}`);
    }
  }
  await engine.load(name, override);
}

export async function unloadModel(engine: Engine, mode: ModelControlMode, name: string): Promise<void> {
  checkMode(mode, 'unload', name);
  await engine.unload(name);
}
