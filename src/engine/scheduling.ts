/**
 * From a model's config to its scheduler's settings, and a request's priority and timeout to its
 * queue level and deadline. Pure; Triton's rules: priority 1 is served first, 0 means the model's
 * default level; a level without its own queue policy uses the default one.
 */
import { errors } from '../errors.js';
import { preview } from '../preview.js';
import { runtimeParameters, type ModelConfig } from '../repository/index.js';
import type { QueuePolicyConfig } from '../repository/model-config.js';
import type { SchedulerOptions } from '../scheduler/index.js';

export function schedulerOptions(config: ModelConfig): SchedulerOptions {
  const db = config.dynamic_batching;
  const { pipelineDepth } = runtimeParameters(config);
  if (!db) return { model: config.name, levels: [level(config.queue_policy)], pipelineDepth };
  return {
    model: config.name,
    pipelineDepth,
    levels: policies(config).map(level),
    batching: {
      maxBatchSize: config.max_batch_size,
      preferred: db.preferred_batch_size,
      delayMs: db.max_queue_delay_microseconds / 1000,
      preserveOrdering: db.preserve_ordering,
    },
  };
}

const cache = new WeakMap<ModelConfig, QueuePolicyConfig[]>();

/** Queue policy of each level, index 0 = priority 1. Computed once per config: it is read on every request. */
function policies(config: ModelConfig): QueuePolicyConfig[] {
  let list = cache.get(config);
  if (!list) {
    list = computePolicies(config);
    cache.set(config, list);
  }
  return list;
}

function computePolicies(config: ModelConfig): QueuePolicyConfig[] {
  const db = config.dynamic_batching;
  if (!db || db.priority_levels === 0) return [db?.default_queue_policy ?? config.queue_policy];
  return Array.from(
    { length: db.priority_levels },
    (_, i) => db.priority_queue_policy[String(i + 1)] ?? db.default_queue_policy,
  );
}

const level = (p: QueuePolicyConfig) => ({ maxQueueSize: p.max_queue_size, timeoutAction: p.timeout_action });

/** The queue level index of a request, or INVALID_ARG naming the priority and the allowed range. */
export function requestLevel(config: ModelConfig, priority = 0): number {
  const levels = config.dynamic_batching?.priority_levels ?? 0;
  if (!Number.isInteger(priority) || priority < 0 || priority > levels) {
    const allowed = levels > 0 ? `0 (default) or 1 to ${levels}` : '0 (the model has no priority levels)';
    throw errors.invalidArg(`priority ${preview(priority)} is not valid for model "${config.name}": use ${allowed}`);
  }
  if (levels === 0) return 0;
  return (priority === 0 ? config.dynamic_batching!.default_priority_level : priority) - 1;
}

/** The request's timeout in ms (0 = none) under its level's policy. */
export function requestTimeoutMs(config: ModelConfig, levelIndex: number, timeoutMs?: number): number {
  const policy = policies(config)[levelIndex];
  if (timeoutMs !== undefined && !(timeoutMs >= 0))
    throw errors.invalidArg(`timeoutMs must be a number >= 0, got ${preview(timeoutMs)}`);
  if (timeoutMs !== undefined && policy.allow_timeout_override) return timeoutMs;
  return policy.default_timeout_microseconds / 1000;
}
