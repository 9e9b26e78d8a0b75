/** The benchmark: load generators, measurement windows, the papers' experiments, results and reports. */
export type { Target, TargetModel, TargetInput, TargetInstance, TargetMemory } from './target.js';
export { EngineTarget, type EngineTargetOptions } from './engine-target.js';
export { UrlTarget, type UrlTargetOptions } from './url-target.js';
export { percentileOfSorted, summarizeLatencies, mean, linearFit, type LatencySummary } from './latency-summary.js';
export { arrivalTimes, type ArrivalDistribution, type ArrivalOptions } from './arrivals.js';
export { isStable, windowVerdict, DEFAULT_STABILITY, type StabilityRule, type WindowFigures } from './windows.js';
export { LoadGenerator, type LoadSpec, type Completion } from './load.js';
export { createInputSource, parseInputData, type InputData, type InputSource } from './inputs.js';
export { measure, type Measurement, type MeasureOptions, type StreamSpec, type StreamResult } from './measure.js';
export {
  nextSweepStep,
  estimateMemory,
  maxLevelForMemory,
  bestPoint,
  batchSizesFor,
  outstandingFor,
  DEFAULT_SWEEP_RULE,
  type SweepRule,
  type MemoryModel,
} from './sweep-rules.js';
export { defaultBenchOptions, defaultMemoryBudget, type BenchOptions } from './options.js';
export type { Experiment, ExperimentContext, ExperimentResult, ResultRow, SummaryRow } from './experiment.js';
export { registerExperiment, getExperiment, experimentNames } from './experiments.js';
export { History, DEFAULT_DB_PATH, type StoredRun } from './history.js';
export { compareRuns, formatComparison } from './compare.js';
export { writeReport, rewriteReport, REPORT_FILES } from './report.js';
export { markdownTable, summaryTable } from './report-tables.js';
export { createProgress, quietProgress, type Progress } from './progress.js';
export { runBench, selectModels, type RunBenchOptions, type BenchRun } from './run.js';
export {
  engineProfileBench,
  loadOrMeasureProfiles,
  DEFAULT_PROFILE_MEASURE,
  type ProfileMeasureOptions,
  type LoadOrMeasureOptions,
} from './profile-bench.js';
