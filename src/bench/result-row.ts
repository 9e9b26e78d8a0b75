/** The row every experiment writes: the report's tables, plots and the bench database read it. */
/** One measured setting of one model (or, with model "(total)", of a mix). */
export interface ResultRow {
  /** e.g. "baseline", "cme", "mix", "batch". */
  phase: string;
  model: string;
  /** Instances of the model: its concurrency level. */
  level: number;
  batchSize: number;
  /** The load, e.g. "concurrency 4". */
  load: string;
  /** How the instances were configured, e.g. "1 x 2 threads, spinning". */
  setup: string;
  throughput: number;
  requestRate: number;
  latencyAvgMs: number;
  latencyP50Ms: number;
  latencyP90Ms: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  errors: number;
  stable: boolean;
  windows: number;
  /** The server's split per request, microseconds (NaN when it does not report statistics). */
  queueUs: number;
  computeInferUs: number;
  computeOtherUs: number;
  cpuProcessPct: number;
  cpuSystemPct: number;
  /** Memory with the setting loaded, before the load (bytes; NaN when unknown). */
  loadedBytes: number;
  /** Peak memory while measuring (bytes; NaN when unknown). */
  peakBytes: number;
}
