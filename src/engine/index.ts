export { Engine, type EngineOptions, type ModelIndexEntry } from './engine.js';
export type { ModelView, InstanceView, ModelState } from './model.js';
export type { InferOptions, InferResult } from './request.js';
export type { ModelStatistics, Duration } from './model-stats.js';
export {
  addWindow,
  powerOfTwoBuckets,
  quantileMs,
  BUCKETS,
  type LatencySnapshot,
  type LatencyView,
} from './latency-histogram.js';
export type { InstanceCrash } from './instance-crashes.js';
export { buildInputTable, validateInputs, type InputTable, type InputSpec } from './validate.js';
export { currentPlacement, applyPlacement, placementEntryProblems } from './placement.js';
export { PlacementManager, type PlacementManagerOptions, type PlacementView } from './placement-manager.js';
export {
  memoryFigures,
  processMemory,
  type MemoryView,
  type ModelMemory,
  type InstanceMemory,
} from './memory-figures.js';
export { LiveTuner, type ModelTuning, type TuningState, type TunerOptions } from './tuner.js';
export { TuningMemory } from './tuning-memory.js';
export { RepositoryPoller, type PollChange } from './repository-poller.js';
