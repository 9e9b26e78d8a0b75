/**
 * What the engine serves a model with where its config is silent: the measured good default,
 * not the runtime's. A config that leaves out `instance_group` gets one instance per core with one
 * intra-op thread each; one that leaves out `dynamic_batching` (and can batch) gets dynamic
 * batching up to 4 rows with no queue delay. Both come from the grid searches on this project's
 * 2-core machine (DESIGN.md): one session using every core is what ONNX Runtime does by default,
 * and there 2 instances x 1 thread x batch 4 beat it by 1.26x (MobileNet V2) to 3.0x (the text
 * classifier); batch 8 was worse than 4 for both. Whatever the config states is served as written.
 * Where the live tuner found better at an earlier start (tuning-store.ts), that is served instead.
 * Pure, so the rules are tested by tables.
 */
import { runtimeParameters, type ModelConfig } from '../repository/index.js';
import type { TuningPoint } from '../placement/tuning-search.js';

/** Largest batch the default dynamic batcher forms. */
export const DEFAULT_BATCH = 4;

/** Which fields the model's config left out (so the engine may choose them). */
export interface LeftOut {
  instanceGroup: boolean;
  dynamicBatching: boolean;
}

/** What the engine chose for a model, and why; null fields: the config's own. */
export interface ServingDefaults {
  /**
   * "defaults": the measured defaults below; "stored": what the live tuner found at an earlier start;
   * "tuner": the live tuner's move now.
   */
  source: 'defaults' | 'stored' | 'tuner';
  /** e.g. "2 instances x 1 thread": set when instance_group was left out. */
  instances: string | null;
  /** e.g. "dynamic batching up to 4, no queue delay": set when dynamic_batching was left out and the model batches. */
  batching: string | null;
  /** One line per choice, with its reason. */
  reasons: string[];
}

export interface DefaultsInput {
  cores: number;
  /** Bytes one more instance of this model is expected to take (admission's estimate). */
  instanceBytes: number;
  /** Bytes the defaults may plan on (a share of the free memory). */
  memoryBytes: number;
  /** What the live tuner found for this model file on this device at an earlier start (tuning-store.ts). */
  stored?: { point: TuningPoint; throughput: number; startThroughput: number; tunedAt: string } | null;
}

/** Returns the config to serve and what was chosen; `config` itself is not changed. */
export function applyServingDefaults(
  config: ModelConfig,
  leftOut: LeftOut,
  input: DefaultsInput,
): { config: ModelConfig; defaults: ServingDefaults | null } {
  const reasons: string[] = [];
  let out = config;
  let instances: string | null = null;
  let batching: string | null = null;
  const stored = input.stored ?? null;
  const tunedWhen =
    stored &&
    `tuned under live load at ${stored.tunedAt} (${stored.throughput.toFixed(1)} inf/s served, ` +
      `${(stored.throughput / Math.max(stored.startThroughput, 1e-9)).toFixed(2)}x the defaults' ` +
      `${stored.startThroughput.toFixed(1)})`;
  if (leftOut.instanceGroup) {
    const fixedThreads = runtimeParameters(config).intraOpThreads ?? 0;
    const threads = fixedThreads > 0 ? fixedThreads : (stored?.point.threads ?? 1);
    const byCores = stored ? stored.point.instances : Math.max(1, Math.floor(input.cores / threads));
    const byMemory =
      input.instanceBytes > 0 ? Math.max(1, Math.floor(input.memoryBytes / input.instanceBytes)) : byCores;
    const count = Math.min(byCores, byMemory);
    instances = `${count} instance${count > 1 ? 's' : ''} x ${threads} thread${threads > 1 ? 's' : ''}`;
    const why = stored
      ? `no instance_group in the config; ${tunedWhen}`
      : 'no instance_group in the config, so one instance per ' +
        `${threads > 1 ? `${threads} cores (intra_op_thread_count)` : 'core, 1 intra-op thread each'} ` +
        '(measured here: 2 x 1 thread gave 1.26x-3.0x the inferences/s of one session using both cores)';
    const memoryNote =
      count < byCores
        ? `; ${count} because more would not fit the memory (~${Math.round(input.instanceBytes / 2 ** 20)} MB each)`
        : '';
    reasons.push(`${instances}: ${why}${memoryNote}`);
    out = {
      ...out,
      instance_group: [
        { count, kind: 'KIND_CPU', host: 'thread', device: 'cpu', ...(fixedThreads > 0 ? {} : { threads }) },
      ],
    };
  }
  if (leftOut.dynamicBatching && config.max_batch_size > 0) {
    const size = Math.min(stored?.point.batch ?? DEFAULT_BATCH, config.max_batch_size);
    const delay = stored?.point.delayUs ?? 0;
    batching = `dynamic batching up to ${size}, ${delay > 0 ? `queue delay ${delay} us` : 'no queue delay'}`;
    reasons.push(
      stored
        ? `${batching}: no dynamic_batching in the config; ${tunedWhen}`
        : `${batching}: no dynamic_batching in the config and the model batches; requests that wait are merged, ` +
            'none is held back for a fuller batch (measured here: batch 4 beat 1 and 8)',
    );
    out = {
      ...out,
      dynamic_batching: {
        preferred_batch_size: [size],
        max_queue_delay_microseconds: delay,
        preserve_ordering: false,
        priority_levels: 0,
        default_priority_level: 0,
        default_queue_policy: config.queue_policy,
        priority_queue_policy: {},
      },
    };
  }
  return {
    config: out,
    defaults: instances || batching ? { source: stored ? 'stored' : 'defaults', instances, batching, reasons } : null,
  };
}
