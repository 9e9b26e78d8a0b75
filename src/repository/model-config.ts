/**
 * A model's config.json: Triton's field names (so configs carry over), validated once with errors
 * that name the file, the field and the bad value, and completed from the ONNX file where the
 * config leaves inputs or outputs out.
 */
import { CONFIG_TYPE_NAMES, fromConfigType, toConfigType, type DataType } from '../tensor.js';
import { errors } from '../errors.js';
import type { OnnxMetadata, OnnxTensorInfo } from './onnx-metadata.js';
import {
  completedImageInput,
  parseImageInput,
  resolveImageInput,
  type ImageInputConfig,
} from '../preprocess/config.js';

export interface TensorConfig {
  name: string;
  /** Triton's name, e.g. TYPE_FP32. */
  data_type: string;
  /** Dimensions without the batch dimension when max_batch_size > 0; -1 = any size. */
  dims: number[];
  label_filename?: string;
  /**
   * The shape the model file has, when it differs from `dims` (Triton's reshape): requests carry
   * `dims`, the model runs on `reshape.shape`, with the same elements; outputs go back as `dims`.
   * Without the batch dimension when max_batch_size > 0; at most one -1.
   */
  reshape?: { shape: number[] };
}

export interface InstanceGroupConfig {
  /** Number of instances: the concurrency level of this model. Default 1. */
  count: number;
  kind: 'KIND_CPU' | 'KIND_GPU' | 'KIND_AUTO';
  name?: string;
  /** tenancy: where the instances live: "thread" (default, cheapest) or "process" (isolated). */
  host: 'thread' | 'process';
  /**
   * tenancy: the device the instances run on: "cpu" (default; "gpu:0" for KIND_GPU), a core set
   * "cpu:NAME", "gpu:N" (ONNX Runtime's WebGPU provider) or a simulated accelerator "sim:NAME".
   */
  device: string;
  /** tenancy: intra-op threads of each instance of this group, outside the engine's budget split. */
  threads?: number;
}

export type VersionPolicy =
  | { latest: { num_versions: number } }
  | { all: Record<string, never> }
  | { specific: { versions: number[] } };

export interface QueuePolicyConfig {
  /** Requests that may wait for an instance; more are refused with QUEUE_FULL. 0 = unbounded. Default 1024. */
  max_queue_size: number;
  /** Deadline for requests that set none, in microseconds. 0 = none. */
  default_timeout_microseconds: number;
  /**
   * What a queued request whose deadline passes gets: REJECT (TIMEOUT error, default) or DELAY
   * (moved behind the others).
   */
  timeout_action: 'REJECT' | 'DELAY';
  /**
   * Whether a request's own timeout replaces the default. Default true here (Triton: false),
   * because engine.infer's timeoutMs and the protocol's timeout parameter are the caller's to set.
   */
  allow_timeout_override: boolean;
}

/** Triton's dynamic batcher settings: merge queued requests along the batch dimension. */
export interface DynamicBatchingConfig {
  /** Batch sizes to form when enough requests wait; the largest possible is sent. Default: max_batch_size. */
  preferred_batch_size: number[];
  /** How long the oldest request may wait for a fuller batch, µs. Default 0: send what is there. */
  max_queue_delay_microseconds: number;
  /** Responses leave in the order requests arrived, even when a later batch ends first. */
  preserve_ordering: boolean;
  /** Number of priority levels (1 = highest); 0 = none. */
  priority_levels: number;
  /** Level of requests that give none (priority 0). */
  default_priority_level: number;
  default_queue_policy: QueuePolicyConfig;
  /** Per-level queue policies, by level number. */
  priority_queue_policy: Record<string, QueuePolicyConfig>;
}

export interface ModelConfig {
  name: string;
  platform: 'onnxruntime_onnx';
  /** 0: the model takes no batch dimension. N > 0: inputs are [batch, ...dims] with batch <= N. */
  max_batch_size: number;
  input: TensorConfig[];
  output: TensorConfig[];
  instance_group: InstanceGroupConfig[];
  version_policy: VersionPolicy;
  default_model_filename: string;
  queue_policy: QueuePolicyConfig;
  /** Present when the model's requests are merged into batches (needs max_batch_size > 0). */
  dynamic_batching?: DynamicBatchingConfig;
  /**
   * Free-form key/values; runtime settings read: intra_op_thread_count, inter_op_thread_count,
   * enable_spinning, pipeline_depth, share_weights, enable_prepacking.
   */
  parameters: Record<string, { string_value: string }>;
  /**
   * tenancy: an image pipeline in front of one input (encoded images in as BYTES); filled in from
   * the input when completed.
   */
  image_input?: ImageInputConfig;
  /** Triton's warm-up samples, run in order by every instance before it takes requests. */
  model_warmup?: WarmupSample[];
}

/**
 * One warm-up sample: each input's shape and its data: zeros, random, or a file of raw row-major
 * bytes in the model folder's `warmup/` (one row; repeated for batch_size), as in Triton.
 */
export interface WarmupSample {
  name: string;
  /** Rows in front of dims when max_batch_size > 0. Default 1. */
  batch_size: number;
  /** Runs of the sample per instance. Default 1. */
  count: number;
  inputs: Record<string, WarmupInput>;
}

export interface WarmupInput {
  data_type: string;
  dims: number[];
  random_data?: boolean;
  /** A file name under <model>/warmup/. */
  input_data_file?: string;
}

/** Warm-up samples a config may hold: each runs on every instance before it is ready. */
const MAX_WARMUP_SAMPLES = 16;

const KNOWN_FIELDS = [
  'name',
  'platform',
  'backend',
  'max_batch_size',
  'input',
  'output',
  'instance_group',
  'version_policy',
  'default_model_filename',
  'queue_policy',
  'parameters',
  'dynamic_batching',
  'image_input',
  'model_warmup',
];
const DEFAULT_QUEUE_SIZE = 1024;
const DEVICE_ID = /^(cpu(:[\w-]+)?|gpu:\d+|sim:[\w-]+)$/;
/**
 * Upper bounds on the counts a config may ask for. A config can come from the network (a load's
 * config override), and the engine allocates per instance and per priority level before any
 * memory check: instance_group count 1000000000 crashed the process ("invalid size") while the
 * thread split built one entry per instance. Far above what an edge device runs.
 */
export const CONFIG_LIMITS = {
  /** Instances of one model version, all groups together. */
  instances: 256,
  /** Runtime threads per instance (group threads, intra_op_thread_count, inter_op_thread_count). */
  threads: 256,
  priorityLevels: 64,
  /** Dimensions of a tensor; entries of preferred_batch_size and version_policy.specific.versions. */
  listLength: 64,
  pipelineDepth: 16,
} as const;

const within = (v: unknown, min: number, max: number): v is number => isInt(v, min) && (v as number) <= max;

/** Triton's default when it completes max_batch_size for a model whose inputs all batch. */
const DEFAULT_MAX_BATCH_SIZE = 4;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;

/** The runtime settings a config's `parameters` carry, read in one place (validated by validateModelConfig). */
/** Triton's ONNX Runtime backend spells the execution mode as a number. */
const EXECUTION_MODES: Record<string, 'sequential' | 'parallel'> = {
  '0': 'sequential',
  '1': 'parallel',
  sequential: 'sequential',
  parallel: 'parallel',
};

/** The ONNX Runtime backend's parameters for CUDA and TensorRT, which have no meaning here. */
const GPU_ONLY_PARAMETERS: Record<string, string> = {
  cudnn_conv_algo_search: 'a CUDA setting (tenancy runs on CPUs and WebGPU)',
  cudnn_conv_use_max_workspace: 'a CUDA setting (tenancy runs on CPUs and WebGPU)',
  gpu_mem_limit: 'a CUDA setting (tenancy runs on CPUs and WebGPU)',
  arena_extend_strategy: 'a CUDA allocator setting (tenancy runs on CPUs and WebGPU)',
  do_copy_in_default_stream: 'a CUDA setting (tenancy runs on CPUs and WebGPU)',
  trt_engine_cache_enable: 'a TensorRT setting',
  trt_engine_cache_path: 'a TensorRT setting',
};

export interface RuntimeParameters {
  /** intra_op_thread_count: threads per instance fixed by the config; undefined = the engine's split. */
  intraOpThreads?: number;
  /** inter_op_thread_count. */
  interOpThreads?: number;
  /** pipeline_depth: runs sent to one instance at a time. */
  pipelineDepth?: number;
  /** enable_spinning "1"/"true". */
  spinning: boolean;
  /** share_weights: instances map one copy of the weights (runtime/shared-weights.ts); undefined = default. */
  shareWeights?: boolean;
  /** The ONNX Runtime backend's execution_mode: "0" sequential, "1" parallel (Triton's values). */
  executionMode?: 'sequential' | 'parallel';
  /** enable_mem_arena, enable_mem_pattern: "0" turns ONNX Runtime's off. */
  memArena?: boolean;
  memPattern?: boolean;
  /** enable_prepacking (tenancy's, not Triton's): "0" or "1" overrides the shared copy's choice (docs/memory.md). */
  prepacking?: boolean;
}

export function runtimeParameters(config: Pick<ModelConfig, 'parameters'>): RuntimeParameters {
  const p = config.parameters;
  const count = (key: string) => (p[key]?.string_value === undefined ? undefined : Number(p[key].string_value));
  return {
    intraOpThreads: count('intra_op_thread_count'),
    interOpThreads: count('inter_op_thread_count'),
    pipelineDepth: count('pipeline_depth'),
    spinning: ['1', 'true'].includes(p.enable_spinning?.string_value ?? '0'),
    ...(p.share_weights ? { shareWeights: ['1', 'true'].includes(p.share_weights.string_value) } : {}),
    ...(p.execution_mode ? { executionMode: EXECUTION_MODES[p.execution_mode.string_value] } : {}),
    ...(p.enable_mem_arena ? { memArena: ['1', 'true'].includes(p.enable_mem_arena.string_value) } : {}),
    ...(p.enable_mem_pattern ? { memPattern: ['1', 'true'].includes(p.enable_mem_pattern.string_value) } : {}),
    ...(p.enable_prepacking ? { prepacking: ['1', 'true'].includes(p.enable_prepacking.string_value) } : {}),
  };
}

/**
 * Validates raw config JSON and fills defaults. `file` names the config in messages; `dirName` is
 * the model's folder name, which the config's name must match when given.
 */
export function validateModelConfig(raw: unknown, file: string, dirName: string): ModelConfig {
  const bad = (field: string, value: unknown, expected: string) => errors.invalidConfig(file, field, value, expected);
  if (!isObj(raw)) throw bad('(root)', raw, 'must be a JSON object');
  for (const k of Object.keys(raw)) {
    if (!KNOWN_FIELDS.includes(k)) throw bad(k, raw[k], `is not a known field (known: ${KNOWN_FIELDS.join(', ')})`);
  }
  const name = raw.name ?? dirName;
  if (name !== dirName) throw bad('name', name, `must match the model's folder name "${dirName}"`);
  const platform = raw.platform ?? 'onnxruntime_onnx';
  if (platform !== 'onnxruntime_onnx') throw bad('platform', platform, 'must be "onnxruntime_onnx"');
  if (raw.backend !== undefined && raw.backend !== 'onnxruntime')
    throw bad('backend', raw.backend, 'must be "onnxruntime"');
  const maxBatch = raw.max_batch_size ?? -1; // -1: not given, completed from the ONNX file
  if (maxBatch !== -1 && !isInt(maxBatch, 0)) throw bad('max_batch_size', maxBatch, 'must be an integer >= 0');

  const tensors = (field: 'input' | 'output'): TensorConfig[] => {
    const list = raw[field] ?? [];
    if (!Array.isArray(list)) throw bad(field, list, 'must be an array');
    return list.map((t, i) => tensorConfig(t, `${field}[${i}]`, bad));
  };
  const input = tensors('input');
  const output = tensors('output');

  const groupsRaw = raw.instance_group ?? [{ count: 1, kind: 'KIND_CPU' }];
  if (!Array.isArray(groupsRaw) || groupsRaw.length === 0)
    throw bad('instance_group', groupsRaw, 'must be a non-empty array');
  const instance_group = groupsRaw.map((g, i): InstanceGroupConfig => {
    const f = `instance_group[${i}]`;
    if (!isObj(g)) throw bad(f, g, 'must be an object');
    const count = g.count ?? 1;
    if (!within(count, 1, CONFIG_LIMITS.instances))
      throw bad(`${f}.count`, count, `must be an integer from 1 to ${CONFIG_LIMITS.instances}`);
    const kind = g.kind ?? 'KIND_CPU';
    if (kind !== 'KIND_CPU' && kind !== 'KIND_GPU' && kind !== 'KIND_AUTO')
      throw bad(`${f}.kind`, kind, 'must be "KIND_CPU", "KIND_GPU" or "KIND_AUTO"');
    const device = g.device ?? (kind === 'KIND_GPU' ? 'gpu:0' : 'cpu');
    if (typeof device !== 'string' || !DEVICE_ID.test(device))
      throw bad(`${f}.device`, device, 'must be "cpu", "cpu:NAME", "gpu:N" or "sim:NAME"');
    if (g.name !== undefined && typeof g.name !== 'string') throw bad(`${f}.name`, g.name, 'must be a string');
    const host = g.host ?? 'thread';
    if (host !== 'thread' && host !== 'process') throw bad(`${f}.host`, host, 'must be "thread" or "process"');
    if (g.threads !== undefined && !within(g.threads, 1, CONFIG_LIMITS.threads))
      throw bad(`${f}.threads`, g.threads, `must be an integer from 1 to ${CONFIG_LIMITS.threads}`);
    return {
      count,
      kind,
      host,
      device,
      ...(g.threads ? { threads: g.threads as number } : {}),
      ...(g.name ? { name: g.name as string } : {}),
    };
  });

  const total = instance_group.reduce((n, g) => n + g.count, 0);
  if (total > CONFIG_LIMITS.instances)
    throw bad(
      'instance_group',
      `${total} instances`,
      `must ask for at most ${CONFIG_LIMITS.instances} instances in all`,
    );

  const version_policy = versionPolicy(raw.version_policy, bad);
  const default_model_filename = raw.default_model_filename ?? 'model.onnx';
  if (typeof default_model_filename !== 'string' || !/^[\w.-]+$/.test(default_model_filename))
    throw bad('default_model_filename', default_model_filename, 'must be a plain file name');

  const queue_policy = queuePolicy(raw.queue_policy, 'queue_policy', DEFAULT_QUEUE_POLICY, bad);
  const dynamic_batching =
    raw.dynamic_batching === undefined
      ? undefined
      : dynamicBatching(raw.dynamic_batching, maxBatch as number, queue_policy, bad);

  const params = raw.parameters ?? {};
  if (!isObj(params)) throw bad('parameters', params, 'must be an object of {"string_value": "..."}');
  const parameters: ModelConfig['parameters'] = {};
  for (const [k, v] of Object.entries(params)) {
    if (!isObj(v) || typeof v.string_value !== 'string')
      throw bad(`parameters.${k}`, v, 'must be {"string_value": "..."}');
    parameters[k] = { string_value: v.string_value };
  }
  const countParams: [string, number][] = [
    ['intra_op_thread_count', CONFIG_LIMITS.threads],
    ['inter_op_thread_count', CONFIG_LIMITS.threads],
    ['pipeline_depth', CONFIG_LIMITS.pipelineDepth],
  ];
  for (const [key, max] of countParams) {
    const v = parameters[key]?.string_value;
    if (v !== undefined && !(/^[1-9]\d*$/.test(v) && Number(v) <= max))
      throw bad(`parameters.${key}.string_value`, v, `must be a positive integer up to ${max}`);
  }
  const image_input = raw.image_input === undefined ? undefined : parseImageInput(raw.image_input, bad);
  const model_warmup = raw.model_warmup === undefined ? undefined : warmupSamples(raw.model_warmup, bad);
  const mode = parameters.execution_mode?.string_value;
  if (mode !== undefined && !(mode in EXECUTION_MODES))
    throw bad('parameters.execution_mode.string_value', mode, 'must be "0" (sequential) or "1" (parallel)');
  for (const [key, why] of Object.entries(GPU_ONLY_PARAMETERS))
    if (parameters[key] !== undefined)
      throw bad(`parameters.${key}`, parameters[key].string_value, `is not served: ${why}`);
  for (const key of [
    'enable_spinning',
    'share_weights',
    'enable_mem_arena',
    'enable_mem_pattern',
    'enable_prepacking',
  ]) {
    const v = parameters[key]?.string_value;
    if (v !== undefined && !['0', '1', 'true', 'false'].includes(v))
      throw bad(`parameters.${key}.string_value`, v, 'must be "0", "1", "true" or "false"');
  }

  return {
    name: dirName,
    platform: 'onnxruntime_onnx',
    max_batch_size: maxBatch as number,
    input,
    output,
    instance_group,
    version_policy,
    default_model_filename,
    queue_policy,
    ...(dynamic_batching ? { dynamic_batching } : {}),
    parameters,
    ...(image_input ? { image_input } : {}),
    ...(model_warmup ? { model_warmup } : {}),
  };
}

function warmupSamples(v: unknown, bad: Bad): WarmupSample[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_WARMUP_SAMPLES)
    throw bad('model_warmup', v, `must be a list of 1 to ${MAX_WARMUP_SAMPLES} warm-up samples`);
  return v.map((w, i) => warmupSample(w, `model_warmup[${i}]`, bad));
}

function warmupSample(w: unknown, f: string, bad: Bad): WarmupSample {
  if (!isObj(w)) throw bad(f, w, 'must be an object');
  const batch = w.batch_size ?? 1;
  const count = w.count ?? 1;
  if (!within(batch, 1, 1 << 16)) throw bad(`${f}.batch_size`, batch, 'must be an integer >= 1');
  if (!within(count, 1, 100)) throw bad(`${f}.count`, count, 'must be an integer from 1 to 100');
  if (!isObj(w.inputs) || Object.keys(w.inputs).length === 0)
    throw bad(
      `${f}.inputs`,
      w.inputs,
      'must name each input with its data_type, dims and one of zero_data, random_data, input_data_file',
    );
  const inputs: WarmupSample['inputs'] = {};
  for (const [name, i] of Object.entries(w.inputs)) {
    const g = `${f}.inputs.${name}`;
    if (!isObj(i)) throw bad(g, i, 'must be an object');
    const sources = ['zero_data', 'random_data', 'input_data_file'].filter((k) => i[k] !== undefined && i[k] !== false);
    if (sources.length > 1) throw bad(g, sources, 'must have one of zero_data, random_data, input_data_file');
    const file = i.input_data_file;
    if (file !== undefined && (typeof file !== 'string' || !/^[\w.-]+$/.test(file) || file.startsWith('.')))
      throw bad(
        `${g}.input_data_file`,
        file,
        "must be a file name in the model folder's warmup/ (letters, digits, . _ -)",
      );
    if (typeof i.data_type !== 'string' || !fromConfigType(i.data_type))
      throw bad(`${g}.data_type`, i.data_type, `must be one of ${CONFIG_TYPE_NAMES.join(', ')}`);
    if (!Array.isArray(i.dims) || i.dims.length > CONFIG_LIMITS.listLength || !i.dims.every((d) => isInt(d, 1)))
      throw bad(`${g}.dims`, i.dims, 'must be an array of positive integers (a warm-up sample has a fixed shape)');
    inputs[name] = {
      data_type: i.data_type,
      dims: i.dims as number[],
      ...(i.random_data ? { random_data: true } : {}),
      ...(typeof file === 'string' ? { input_data_file: file } : {}),
    };
  }
  return { name: typeof w.name === 'string' ? w.name : 'warmup', batch_size: batch, count, inputs };
}

function tensorConfig(t: unknown, f: string, bad: Bad): TensorConfig {
  if (!isObj(t)) throw bad(f, t, 'must be an object with name, data_type and dims');
  if (typeof t.name !== 'string' || t.name === '') throw bad(`${f}.name`, t.name, 'must be a non-empty string');
  if (typeof t.data_type !== 'string' || !fromConfigType(t.data_type))
    throw bad(`${f}.data_type`, t.data_type, `must be one of ${CONFIG_TYPE_NAMES.join(', ')}`);
  if (
    !Array.isArray(t.dims) ||
    t.dims.length > CONFIG_LIMITS.listLength ||
    !t.dims.every((d) => d === -1 || isInt(d, 1))
  )
    throw bad(`${f}.dims`, t.dims, `must be an array of at most ${CONFIG_LIMITS.listLength} positive integers or -1`);
  if (t.label_filename !== undefined && (typeof t.label_filename !== 'string' || !/^[\w.-]+$/.test(t.label_filename)))
    throw bad(`${f}.label_filename`, t.label_filename, 'must be a plain file name in the model folder');
  const reshape =
    t.reshape === undefined ? undefined : reshapeConfig(t.reshape, t.dims as number[], `${f}.reshape`, bad);
  return {
    name: t.name,
    data_type: t.data_type,
    dims: t.dims as number[],
    ...(t.label_filename ? { label_filename: t.label_filename } : {}),
    ...(reshape ? { reshape } : {}),
  };
}

function reshapeConfig(r: unknown, dims: number[], f: string, bad: Bad): { shape: number[] } {
  const shape = isObj(r) ? r.shape : undefined;
  if (
    !Array.isArray(shape) ||
    shape.length > CONFIG_LIMITS.listLength ||
    !shape.every((d) => d === -1 || isInt(d, 1)) ||
    shape.filter((d) => d === -1).length > 1
  )
    throw bad(
      `${f}.shape`,
      shape,
      `must be an array of at most ${CONFIG_LIMITS.listLength} positive integers, with at most one -1`,
    );
  const count = (s: number[]) => s.reduce((n, d) => n * d, 1);
  if (!dims.includes(-1) && !shape.includes(-1) && count(dims) !== count(shape as number[]))
    throw bad(`${f}.shape`, shape, `must hold as many elements as dims [${dims.join(', ')}] (${count(dims)})`);
  if (dims.includes(-1) !== shape.includes(-1))
    throw bad(`${f}.shape`, shape, `must have a -1 exactly when dims [${dims.join(', ')}] has one`);
  return { shape: shape as number[] };
}

type Bad = (f: string, v: unknown, e: string) => Error;
const DEFAULT_QUEUE_POLICY: QueuePolicyConfig = {
  max_queue_size: DEFAULT_QUEUE_SIZE,
  default_timeout_microseconds: 0,
  timeout_action: 'REJECT',
  allow_timeout_override: true,
};

function queuePolicy(v: unknown, f: string, base: QueuePolicyConfig, bad: Bad): QueuePolicyConfig {
  if (v === undefined) return base;
  if (!isObj(v)) throw bad(f, v, 'must be an object');
  const out = { ...base };
  if (v.max_queue_size !== undefined) {
    if (!isInt(v.max_queue_size, 0)) throw bad(`${f}.max_queue_size`, v.max_queue_size, 'must be an integer >= 0');
    out.max_queue_size = v.max_queue_size;
  }
  if (v.default_timeout_microseconds !== undefined) {
    if (!isInt(v.default_timeout_microseconds, 0))
      throw bad(`${f}.default_timeout_microseconds`, v.default_timeout_microseconds, 'must be an integer >= 0');
    out.default_timeout_microseconds = v.default_timeout_microseconds;
  }
  if (v.timeout_action !== undefined) {
    if (v.timeout_action !== 'REJECT' && v.timeout_action !== 'DELAY')
      throw bad(`${f}.timeout_action`, v.timeout_action, 'must be "REJECT" or "DELAY"');
    out.timeout_action = v.timeout_action;
  }
  if (v.allow_timeout_override !== undefined) {
    if (typeof v.allow_timeout_override !== 'boolean')
      throw bad(`${f}.allow_timeout_override`, v.allow_timeout_override, 'must be true or false');
    out.allow_timeout_override = v.allow_timeout_override;
  }
  return out;
}

function dynamicBatching(
  v: unknown,
  maxBatch: number,
  modelPolicy: QueuePolicyConfig,
  bad: Bad,
): DynamicBatchingConfig {
  const f = 'dynamic_batching';
  if (!isObj(v)) throw bad(f, v, 'must be an object');
  if (maxBatch === 0) throw bad(f, v, 'needs max_batch_size > 0 (the model takes no batch dimension)');
  const pref = v.preferred_batch_size ?? [];
  if (
    !Array.isArray(pref) ||
    pref.length > CONFIG_LIMITS.listLength ||
    !pref.every((b) => isInt(b, 1) && (maxBatch < 0 || b <= maxBatch))
  )
    throw bad(
      `${f}.preferred_batch_size`,
      pref,
      `must be at most ${CONFIG_LIMITS.listLength} batch sizes from 1 to max_batch_size` +
        `${maxBatch > 0 ? ` (${maxBatch})` : ''}`,
    );
  const delay = (v.max_queue_delay_microseconds ?? 0) as number;
  if (!isInt(delay, 0)) throw bad(`${f}.max_queue_delay_microseconds`, delay, 'must be an integer >= 0');
  const order = v.preserve_ordering ?? false;
  if (typeof order !== 'boolean') throw bad(`${f}.preserve_ordering`, order, 'must be true or false');
  const levels = (v.priority_levels ?? 0) as number;
  if (!within(levels, 0, CONFIG_LIMITS.priorityLevels))
    throw bad(`${f}.priority_levels`, levels, `must be an integer from 0 to ${CONFIG_LIMITS.priorityLevels}`);
  const dflt = (v.default_priority_level ?? Math.max(levels, 0)) as number;
  if (levels > 0 ? !isInt(dflt, 1) || dflt > levels : dflt !== 0)
    throw bad(
      `${f}.default_priority_level`,
      dflt,
      levels > 0 ? `must be a level from 1 to priority_levels (${levels})` : 'must be 0 when priority_levels is 0',
    );
  const default_queue_policy = queuePolicy(v.default_queue_policy, `${f}.default_queue_policy`, modelPolicy, bad);
  const perLevel = v.priority_queue_policy ?? {};
  if (!isObj(perLevel)) throw bad(`${f}.priority_queue_policy`, perLevel, 'must be an object keyed by priority level');
  const priority_queue_policy: Record<string, QueuePolicyConfig> = {};
  for (const [level, p] of Object.entries(perLevel)) {
    if (!/^[1-9]\d*$/.test(level) || Number(level) > levels)
      throw bad(
        `${f}.priority_queue_policy`,
        level,
        `keys must be priority levels from 1 to priority_levels (${levels})`,
      );
    priority_queue_policy[level] = queuePolicy(p, `${f}.priority_queue_policy.${level}`, default_queue_policy, bad);
  }
  return {
    preferred_batch_size: [...pref].sort((a, b) => a - b),
    max_queue_delay_microseconds: delay,
    preserve_ordering: order,
    priority_levels: levels,
    default_priority_level: dflt,
    default_queue_policy,
    priority_queue_policy,
  };
}

function versionPolicy(v: unknown, bad: Bad): VersionPolicy {
  if (v === undefined) return { latest: { num_versions: 1 } };
  if (isObj(v) && isObj(v.latest)) {
    const n = v.latest.num_versions ?? 1;
    if (!isInt(n, 1)) throw bad('version_policy.latest.num_versions', n, 'must be an integer >= 1');
    return { latest: { num_versions: n } };
  }
  if (isObj(v) && isObj(v.all)) return { all: {} };
  if (isObj(v) && isObj(v.specific)) {
    const vs = v.specific.versions;
    if (!Array.isArray(vs) || vs.length === 0 || vs.length > CONFIG_LIMITS.listLength || !vs.every((x) => isInt(x, 1)))
      throw bad(
        'version_policy.specific.versions',
        vs,
        `must be a non-empty array of at most ${CONFIG_LIMITS.listLength} version numbers >= 1`,
      );
    return { specific: { versions: vs as number[] } };
  }
  throw bad(
    'version_policy',
    v,
    'must be {"latest": {"num_versions": N}}, {"all": {}} or {"specific": {"versions": [...]}}',
  );
}

/**
 * Completes a validated config from the model file: fills inputs/outputs the config leaves out,
 * decides max_batch_size when not given, and checks the ones it gives against the file.
 */
export function completeFromOnnx(config: ModelConfig, meta: OnnxMetadata, file: string): ModelConfig {
  const bad = (field: string, value: unknown, expected: string) => errors.invalidConfig(file, field, value, expected);
  const all = [...meta.inputs, ...meta.outputs];
  const batchable = all.length > 0 && all.every((t) => t.dims.length > 0 && t.dims[0] === -1);
  let maxBatch = config.max_batch_size;
  if (maxBatch === -1) maxBatch = batchable ? DEFAULT_MAX_BATCH_SIZE : 0;
  if (maxBatch > 0 && !batchable)
    throw bad(
      'max_batch_size',
      maxBatch,
      'must be 0: the model file has an input or output without a dynamic first (batch) dimension',
    );
  const db = config.dynamic_batching;
  if (db && maxBatch === 0)
    throw bad('dynamic_batching', {}, 'needs max_batch_size > 0, and the model file has no batch dimension');
  if (db?.preferred_batch_size.some((b) => b > maxBatch))
    throw bad(
      'dynamic_batching.preferred_batch_size',
      db.preferred_batch_size,
      `must not exceed max_batch_size (${maxBatch})`,
    );

  const fill = (field: 'input' | 'output', given: TensorConfig[], actual: OnnxTensorInfo[]): TensorConfig[] => {
    if (given.length === 0)
      return actual.map((t) => ({
        name: t.name,
        data_type: toConfigType(t.datatype),
        dims: t.dims.slice(maxBatch > 0 ? 1 : 0),
      }));
    return given.map((g, i) => {
      const a = actual.find((t) => t.name === g.name);
      if (!a)
        throw bad(
          `${field}[${i}].name`,
          g.name,
          `must name a model ${field} (the file has: ${actual.map((t) => t.name).join(', ')})`,
        );
      if (fromConfigType(g.data_type) !== a.datatype)
        throw bad(`${field}[${i}].data_type`, g.data_type, `must be ${toConfigType(a.datatype)} as in the model file`);
      const fileDims = a.dims.slice(maxBatch > 0 ? 1 : 0);
      // With a reshape, the model file has the reshaped shape; requests carry dims.
      const modelDims = g.reshape?.shape ?? g.dims;
      const fits = fileDims.length === modelDims.length && fileDims.every((d, j) => d === -1 || d === modelDims[j]);
      if (!fits)
        throw bad(
          g.reshape ? `${field}[${i}].reshape.shape` : `${field}[${i}].dims`,
          modelDims,
          `must match the model file's dims [${fileDims.join(', ')}] ` +
            '(without the batch dimension when max_batch_size > 0)',
        );
      return g;
    });
  };
  const input = fill('input', config.input, meta.inputs);
  const output = fill('output', config.output, meta.outputs);
  const missing = meta.inputs.filter((t) => !input.some((i) => i.name === t.name));
  if (missing.length)
    throw bad(
      'input',
      config.input.map((i) => i.name),
      `must list every model input (missing: ${missing.map((m) => m.name).join(', ')})`,
    );
  const image = config.image_input && resolveImageInput(config.image_input, input, maxBatch, bad);
  for (const [at, w] of (config.model_warmup ?? []).entries()) {
    const f = `model_warmup[${at}]`;
    const names = input.map((i) => i.name);
    const missing = names.filter((n) => !(n in w.inputs));
    const extra = Object.keys(w.inputs).filter((n) => !names.includes(n));
    if (missing.length || extra.length)
      throw bad(
        `${f}.inputs`,
        Object.keys(w.inputs),
        `must name every model input and no other (inputs: ${names.join(', ')})`,
      );
    for (const i of input)
      if (w.inputs[i.name].data_type !== i.data_type)
        throw bad(`${f}.inputs.${i.name}.data_type`, w.inputs[i.name].data_type, `must be ${i.data_type}`);
    if (maxBatch > 0 && w.batch_size > maxBatch)
      throw bad(`${f}.batch_size`, w.batch_size, `must not exceed max_batch_size (${maxBatch})`);
    if (maxBatch === 0 && w.batch_size !== 1)
      throw bad(`${f}.batch_size`, w.batch_size, 'must be 1: the model has no batch dimension (max_batch_size 0)');
  }
  return {
    ...config,
    max_batch_size: maxBatch,
    input,
    output,
    ...(image ? { image_input: completedImageInput(image) } : {}),
  };
}

/** The datatype of a config tensor as the protocol names it. */
export function tensorDataType(t: TensorConfig): DataType {
  return fromConfigType(t.data_type)!;
}
