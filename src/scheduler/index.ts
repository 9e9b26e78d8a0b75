export {
  Scheduler,
  type SchedulerHooks,
  type SchedulerInstance,
  type SchedulerOptions,
  type LevelPolicy,
} from './scheduler.js';
export type { Clock } from './deadline-timer.js';
export { RequestQueue } from './request-queue.js';
export { pickInstance, type Pickable } from './pick-instance.js';
export { formBatch, type BatchPolicy, type BatchCandidate, type BatchDecision } from './form-batch.js';
export { batchKey, mergeInputs, splitOutputs } from './batch-tensors.js';
