export { Engine, type EngineOptions, type ModelIndexEntry } from './engine.js';
export type { ModelView, InstanceView, ModelState } from './model.js';
export type { InferOptions, InferResult } from './request.js';
export type { ModelStatistics, Duration } from './model-stats.js';
export { buildInputTable, validateInputs, type InputTable, type InputSpec } from './validate.js';
export { currentPlacement, applyPlacement, placementEntryProblems } from './placement.js';
export { PlacementManager, type PlacementManagerOptions, type PlacementView } from './placement-manager.js';
export { LiveTuner, type ModelTuning, type TuningState, type TunerOptions } from './tuner.js';
export { TuningMemory } from './tuning-memory.js';
