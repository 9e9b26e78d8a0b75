/**
 * Admission of new instances. Memory is what caps the concurrency level, so the engine refuses to start
 * instances that would not fit in the memory available now, with the figures, instead of letting
 * the system run out of memory. Without a measured profile, instances are estimated from their
 * model file, by figures measured with `npm run bench:memory` (docs/memory.md: PSS of 1-8 worker
 * thread instances of MobileNet V2, a 14 MB file, and ResNet-50, 102 MB, on onnxruntime-node 1.30):
 * - private copies: each instance about 2.6 x the file + 28 MB (the weights, the copies made while
 *   loading that the allocator keeps, the session's buffers, the worker thread);
 * - shared weights (the default, runtime/shared-weights.ts): the model's one copy, about 1.1 x the
 *   file + 20 MB (its mapped weights and what is read into memory), plus about 0.02 x the file +
 *   22 MB per instance (the session's own buffers, and the worker thread: 22 MB per extra instance
 *   of both models with the per-model session options, shared-weights.ts leanSessionDefaults).
 */
import os from 'node:os';
import { statSync } from 'node:fs';
import { errors } from '../errors.js';
import { DEFAULT_SHARE_WEIGHTS, type Device } from '../runtime/index.js';

const MB = 2 ** 20;

const PRIVATE = { file: 2.6, fixed: 28 * MB };
const SHARED_COPY = { file: 1.1, fixed: 20 * MB };
const SHARED_EACH = { file: 0.02, fixed: 22 * MB };

/** How the instances of a model hold its weights: shared (one copy for all) or private (one each). */
export type WeightsMode = 'shared' | 'private';
const defaultMode = (): WeightsMode => (DEFAULT_SHARE_WEIGHTS ? 'shared' : 'private');

/** Memory one more instance of the model costs, bytes (with shared weights: not counting the one copy). */
export function estimateInstanceBytes(file: string, weights: WeightsMode = defaultMode()): number {
  const size = statSync(file).size;
  const k = weights === 'shared' ? SHARED_EACH : PRIVATE;
  return Math.round(size * k.file + k.fixed);
}

/** Memory of the one shared copy of a model's weights, bytes (0 for private copies). */
export function estimateSharedCopyBytes(file: string, weights: WeightsMode = defaultMode()): number {
  return weights === 'shared' ? Math.round(statSync(file).size * SHARED_COPY.file + SHARED_COPY.fixed) : 0;
}

/** Memory `instances` new instances of the model need, bytes, counting the shared copy once. */
export function estimateModelBytes(file: string, instances: number, weights: WeightsMode = defaultMode()): number {
  if (instances <= 0) return 0;
  return estimateSharedCopyBytes(file, weights) + instances * estimateInstanceBytes(file, weights);
}

/** Throws UNAVAILABLE naming the need and what is available when `instances` of `file` do not fit. */
export function admitMemory(
  model: string,
  file: string,
  instances: number,
  share = 0.9,
  weights: WeightsMode = defaultMode(),
): void {
  if (instances <= 0) return;
  const need = estimateModelBytes(file, instances, weights);
  const available = os.freemem() * share;
  if (need > available) {
    const how =
      weights === 'shared'
        ? 'estimate with shared weights: one copy of 1.1 x the model file + 20 MB, and 0.02 x the file + 22 MB each'
        : 'estimate with private weights: 2.6 x the model file + 28 MB each';
    throw errors.modelNotReady(
      model,
      'unavailable',
      `${instances} instance${instances > 1 ? 's' : ''} need about ${(need / MB).toFixed(0)} MB (${how}), ` +
        `only ${(available / MB).toFixed(0)} MB are available`,
    );
  }
}

/**
 * A simulated accelerator runs at most max_concurrent executions at once; each instance there runs
 * one at a time, so its instances (all models together) may not exceed that number.
 */
export function admitAccelerator(model: string, device: Device, already: number, adding: number): void {
  const max = device.maxConcurrent ?? Infinity;
  if (device.kind === 'sim' && adding > 0 && already + adding > max) {
    throw errors.modelNotReady(
      model,
      'unavailable',
      `${device.id} (simulated) runs at most ${max} execution${max > 1 ? 's' : ''} at once: ` +
        `it has ${already} instance${already === 1 ? '' : 's'} and ${adding} more were asked for`,
    );
  }
}
