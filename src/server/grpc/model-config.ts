/**
 * A model's configuration as the ModelConfig RPC answers it: tenancy's ModelConfig (the JSON that
 * GET /v2/models/{m}/config returns) in the shape of Triton's ModelConfig message, so that
 * Triton's clients (tritonclient.grpc get_model_config, perf_analyzer -i grpc) decode it.
 *
 * Left out, having no field in Triton's message: the model-wide queue_policy (the dynamic
 * batcher's default_queue_policy carries it when batching is on), image_input, and each instance
 * group's host, threads and any device other than "gpu:N" (which becomes gpus: [N]).
 */
import type {
  DynamicBatchingConfig,
  InstanceGroupConfig,
  ModelConfig,
  QueuePolicyConfig,
  TensorConfig,
  WarmupSample,
} from '../../repository/model-config.js';

const GPU_DEVICE = /^gpu:(\d+)$/;

const tensor = (t: TensorConfig) => ({
  name: t.name,
  data_type: t.data_type,
  dims: t.dims,
  ...(t.reshape ? { reshape: { shape: t.reshape.shape } } : {}),
});

/** A warm-up sample with its oneof set as Triton's message has it (zero_data when neither other is). */
const warmup = (w: WarmupSample) => ({
  name: w.name,
  batch_size: w.batch_size,
  count: w.count,
  inputs: Object.fromEntries(
    Object.entries(w.inputs).map(([name, i]) => [
      name,
      {
        data_type: i.data_type,
        dims: i.dims,
        ...(i.input_data_file
          ? { input_data_file: i.input_data_file }
          : i.random_data
            ? { random_data: true }
            : { zero_data: true }),
      },
    ]),
  ),
});

function instanceGroup(g: InstanceGroupConfig) {
  const gpu = GPU_DEVICE.exec(g.device);
  return { name: g.name ?? '', kind: g.kind, count: g.count, gpus: gpu ? [Number(gpu[1])] : [] };
}

const queuePolicy = (p: QueuePolicyConfig) => ({
  timeout_action: p.timeout_action,
  default_timeout_microseconds: p.default_timeout_microseconds,
  allow_timeout_override: p.allow_timeout_override,
  max_queue_size: p.max_queue_size,
});

function dynamicBatching(d: DynamicBatchingConfig) {
  const perLevel = Object.fromEntries(
    Object.entries(d.priority_queue_policy).map(([level, p]) => [level, queuePolicy(p)]),
  );
  return {
    preferred_batch_size: d.preferred_batch_size,
    max_queue_delay_microseconds: d.max_queue_delay_microseconds,
    preserve_ordering: d.preserve_ordering,
    priority_levels: d.priority_levels,
    default_priority_level: d.default_priority_level,
    default_queue_policy: queuePolicy(d.default_queue_policy),
    priority_queue_policy: perLevel,
  };
}

/** The `config` of a ModelConfigResponse. Data types are already Triton's names (TYPE_FP32, ...). */
export function grpcModelConfig(c: ModelConfig) {
  return {
    name: c.name,
    platform: c.platform,
    backend: '',
    version_policy: c.version_policy,
    max_batch_size: c.max_batch_size,
    input: c.input.map(tensor),
    output: c.output.map((t) => ({ ...tensor(t), label_filename: t.label_filename ?? '' })),
    instance_group: c.instance_group.map(instanceGroup),
    default_model_filename: c.default_model_filename,
    ...(c.dynamic_batching ? { dynamic_batching: dynamicBatching(c.dynamic_batching) } : {}),
    parameters: c.parameters,
    model_warmup: (c.model_warmup ?? []).map(warmup),
  };
}
