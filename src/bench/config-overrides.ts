/**
 * The model configs an experiment loads, derived from the model's own config (Triton's field
 * names, so the same override works with the repository extension of any OIP server). Pure.
 */
type Config = Record<string, unknown>;

function firstGroup(config: Config): Record<string, unknown> {
  const groups = config.instance_group;
  const g =
    Array.isArray(groups) && groups.length > 0 && typeof groups[0] === 'object'
      ? (groups[0] as Record<string, unknown>)
      : {};
  return { kind: 'KIND_CPU', ...g };
}

/** The model's config with `count` instances in one group (kind and host of its first group kept). */
export function withInstances(config: Config, count: number): Config {
  return { ...structuredClone(config), instance_group: [{ ...firstGroup(config), count }] };
}

/**
 * The papers' single-tenant baseline: one instance with the runtime's defaults, which for ONNX
 * Runtime are one intra-op thread per core and spinning idle threads.
 */
export function runtimeDefaults(config: Config, cores: number): Config {
  const c = withInstances(config, 1);
  const parameters = { ...((c.parameters as Config | undefined) ?? {}) };
  parameters.intra_op_thread_count = { string_value: String(cores) };
  parameters.enable_spinning = { string_value: '1' };
  return { ...c, parameters };
}

/**
 * The config with `parameters` set over its own (each as Triton's {string_value}): the base that
 * `--config-parameter` gives the experiments, whose own overrides then apply on top.
 */
export function withParameters(config: Config, parameters: Record<string, string>): Config {
  const c = structuredClone(config);
  const own = { ...((c.parameters as Config | undefined) ?? {}) };
  for (const [name, value] of Object.entries(parameters)) own[name] = { string_value: value };
  return { ...c, parameters: own };
}
