/**
 * What the benchmark measures: a Target. The in-process engine is one (engine-target.ts); a
 * server reached over HTTP (JSON or binary tensors) or gRPC through src/client/ is another. The
 * interface holds only what the Open Inference Protocol and its Triton extensions offer (metadata,
 * config, repository load with a config override, unload, statistics), so any OIP server, Triton
 * included, can be a target; what only the engine knows (memory per instance) is optional.
 */
import type { DataType, TensorMap } from '../tensor.js';
import type { ModelStatistics } from '../engine/index.js';

export interface TargetInput {
  name: string;
  datatype: DataType;
  /** Without the batch dimension when maxBatchSize > 0; -1 = any size. */
  dims: number[];
}

export interface TargetModel {
  name: string;
  /** 0 when the model takes no batch dimension. */
  maxBatchSize: number;
  inputs: TargetInput[];
}

/** One instance of a loaded model, as far as the target can tell. */
export interface TargetInstance {
  name: string;
  /** Intra-op threads of its session, when known. */
  threads?: number;
  /** "thread" or "process", when known. */
  host?: string;
  /** Its own resident memory in bytes, when its host reports one (process hosts). */
  memoryBytes?: number;
}

export interface TargetMemory {
  /**
   * Memory of the serving process, bytes: for the in-process engine its proportional set size
   * where Linux reports it (pages shared between mappings, as shared weights are, counted once;
   * bench/proportional-memory.ts), else its resident memory.
   */
  processRssBytes: number;
  /** Memory of instances outside that process (process hosts), bytes each. */
  outsideBytes: number;
}

export interface Target {
  /** What is measured, for reports: e.g. "engine (in-process) on .tenancy/models" or a URL. */
  readonly description: string;
  readonly kind: 'engine' | 'http' | 'grpc';
  /** Models the target can serve (the repository index), sorted. */
  models(): Promise<string[]>;
  /** The model's configuration (Triton's field names) as first seen: the base for overrides. */
  config(model: string): Promise<Record<string, unknown>>;
  /** Loads or reloads a model, with an optional full config replacing its config.json. */
  load(model: string, config?: Record<string, unknown>): Promise<void>;
  unload(model: string): Promise<void>;
  /** Inputs and batch limit of a loaded model. */
  metadata(model: string): Promise<TargetModel>;
  /** Runs one request; resolves when the outputs are back, rejects with the target's error. */
  infer(model: string, inputs: TensorMap): Promise<void>;
  /** Cumulative statistics (Triton's statistics extension) of the served version; null if unsupported. */
  statistics(model: string): Promise<ModelStatistics | null>;
  /** Instances of a loaded model; empty when the target does not say. */
  instances(model: string): Promise<TargetInstance[]>;
  /** Memory of the serving side; null when the target cannot tell (a remote server). */
  memory(): Promise<TargetMemory | null>;
  /** Path of the model file, for the run's environment (sha256); null for a remote server. */
  modelFile(model: string): Promise<string | null>;
  /** Logical cores the serving side has (for the runtime-default baseline). */
  cores(): number;
  close(): Promise<void>;
}
