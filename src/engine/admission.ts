/**
 * Admission of new instances. Memory is what caps the concurrency level, so the engine refuses to start
 * instances that would not fit in the memory available now, with the figures, instead of letting
 * the system run out of memory. Without a measured profile, an instance is estimated from its model
 * file (weights plus the runtime's arena and buffers: measured here, MobileNet V2's 14 MB file took
 * 20-25 MB per instance and ResNet-50's 102 MB file 120-130 MB).
 */
import os from 'node:os';
import { statSync } from 'node:fs';
import { errors } from '../errors.js';
import type { Device } from '../runtime/index.js';

const MB = 2 ** 20;

export function estimateInstanceBytes(file: string): number {
  return Math.round(statSync(file).size * 1.5 + 8 * MB);
}

/** Throws UNAVAILABLE naming the need and what is available when `instances` of `file` do not fit. */
export function admitMemory(model: string, file: string, instances: number, share = 0.9): void {
  if (instances <= 0) return;
  const each = estimateInstanceBytes(file);
  const available = os.freemem() * share;
  if (each * instances > available) {
    throw errors.modelNotReady(
      model,
      'unavailable',
      `${instances} instance${instances > 1 ? 's' : ''} need about ${((each * instances) / MB).toFixed(0)} MB ` +
        '(estimate: 1.5 x the model file + 8 MB each), ' +
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
