/**
 * The engine: the in-process core every front end calls. It owns the repository, the loaded
 * models and the thread budget. A model that fails to load is reported with its reason and the
 * others serve; loads and unloads of one model are serialized.
 */
import os from 'node:os';
import path from 'node:path';
import { errors, isTenancyError, TenancyError } from '../errors.js';
import type { TensorMap } from '../tensor.js';
import {
  checkModelName,
  locateModel,
  modelNames,
  readModelDefinition,
  runtimeParameters,
  type ModelConfig,
  type ModelDefinition,
  type RepositoryPaths,
} from '../repository/index.js';
import { writeUploadedModel } from '../repository/uploaded-files.js';
import { cpuDevice, splitThreads, type Device, type ThreadRequest } from '../runtime/index.js';
import { silentLogger, type Logger } from '../log.js';
import { Model, type DeviceResolver, type ModelView } from './model.js';
import { ModelRecord, type ModelIndexEntry } from './model-record.js';
import { admitAccelerator, admitMemory, estimateInstanceBytes, type WeightsMode } from './admission.js';
import { applyServingDefaults, type DefaultsInput, type ServingDefaults } from './serving-defaults.js';
import { buildInputTable } from './validate.js';
import { configShapesKey, withGivenShapes } from './shapes-key.js';
import type { InferOptions, InferResult } from './request.js';
import type { ModelStatistics } from './model-stats.js';

export interface EngineOptions {
  /** The model repository, or several served as one namespace (tritonserver's repeated --model-repository). */
  repository: string | RepositoryPaths;
  /** Cores the thread budget may hand out; default os.availableParallelism(). */
  cores?: number;
  /** The device inventory (runtime/devices.ts); default: the CPU alone. */
  devices?: Device[];
  log?: Logger;
  /**
   * What the live tuner found for a model file on this device at an earlier start (engine/tuner.ts,
   * placement/tuning-store.ts): served instead of the defaults where the config is silent.
   */
  storedTuning?: StoredTuningLookup;
  /**
   * Sizes for dynamic input dims, by input name, without the batch dim (`serve --shape`): warm-up and
   * the tuning key.
   */
  shapes?: Record<string, number[]>;
}

/** The stored tuning of one model version at its input shapes (null: dims still dynamic), or null. */
export type StoredTuningLookup = (
  model: string,
  file: string,
  shapes: string | null,
) => Promise<DefaultsInput['stored']>;

export type { ModelIndexEntry };

/** A model definition with the engine's defaults applied to each version's config. */
type ServedDefinition = Omit<ModelDefinition, 'versions'> & {
  versions: (ModelDefinition['versions'][number] & {
    defaults: ServingDefaults | null;
    shapes: Record<string, number[]>;
  })[];
};

export class Engine {
  /** The model repositories, in the order given: one namespace of model names. */
  readonly repositories: RepositoryPaths;
  readonly cores: number;
  readonly log: Logger;
  readonly devices: Device[];
  private readonly storedTuning?: StoredTuningLookup;
  private readonly shapes: Record<string, number[]>;
  private readonly records = new Map<string, ModelRecord>();
  /**
   * True while a server starts: its ports are open and the repository's loads have not ended (set
   * by `tenancy serve` and `start`). The server then says not ready, and a model not read yet is
   * unavailable (503, retry) rather than unknown (404).
   */
  starting = false;
  private readonly resolver: DeviceResolver = {
    resolve: (id) => {
      const d = this.devices.find((x) => x.id === id);
      if (!d) throw errors.invalidArg(`unknown device "${id}" (devices: ${this.devices.map((x) => x.id).join(', ')})`);
      if (!d.available) throw errors.modelNotReady(id, 'unavailable', d.reason);
      return d;
    },
  };

  constructor(options: EngineOptions) {
    this.repositories = typeof options.repository === 'string' ? [options.repository] : [...options.repository];
    this.cores = options.cores ?? os.availableParallelism();
    this.log = options.log ?? silentLogger;
    this.devices = options.devices ?? [cpuDevice()];
    this.storedTuning = options.storedTuning;
    this.shapes = options.shapes ?? {};
  }

  /**
   * Adds a device found after the engine was made (the GPU, probed once the ports are open): after
   * the CPU and its core sets, before simulated devices, as the inventory lists them.
   */
  addDevice(device: Device): void {
    if (this.devices.some((d) => d.id === device.id)) throw errors.invalidArg(`device "${device.id}" is already known`);
    const at = this.devices.findIndex((d) => d.kind === 'sim');
    this.devices.splice(at < 0 ? this.devices.length : at, 0, device);
  }

  /**
   * Loads every model of the repository (or the named ones). The thread budget is split over all
   * of them at once. Resolves when all have loaded or failed; failures are in index().
   */
  async loadAll(names?: string[]): Promise<void> {
    const wanted = names ?? (await modelNames(this.repositories));
    const defs: ServedDefinition[] = [];
    for (const name of wanted) {
      try {
        defs.push(await this.withDefaults(await readModelDefinition(await this.repositoryOf(name), name)));
      } catch (err) {
        this.record(name).failed(err);
      }
    }
    const plan = splitThreads(
      this.cores,
      defs.flatMap((d) => d.versions.map((v) => threadRequest(`${d.name}:${v.version}`, v.config))),
    );
    // A model that fails to start is marked with its reason by start(); the others go on.
    await Promise.all(
      defs.map((d) => this.serialize(d.name, () => this.start(d, plan).then(() => {})).catch(() => {})),
    );
  }

  /**
   * Loads (or reloads) one model, with an optional config that replaces its config.json, and
   * optional model files (paths inside the model's folder → bytes) that replace its folder: the
   * model then loads from a temporary repository of its own (repository/uploaded-files.ts). A
   * later load without files goes back to the repository.
   */
  async load(name: string, configOverride?: unknown, files?: Record<string, Uint8Array>): Promise<void> {
    checkModelName(name);
    const known = this.records.has(name);
    // A load refused before any model was read (files that cannot be written, a model the
    // repository does not have) leaves no trace: no index row, no effect on readiness.
    const forget = () => {
      if (!known && this.records.get(name)?.versions.length === 0) this.records.delete(name);
    };
    await this.serialize(name, async () => {
      const upload = files
        ? await writeUploadedModel(name, files).catch((err) => {
            forget();
            throw err;
          })
        : undefined;
      try {
        await this.loadFrom(upload?.repository ?? (await this.repositoryOf(name)), name, configOverride);
      } catch (err) {
        if (upload) {
          await upload.remove();
          // A model sent with a load that failed was never this server's model: no trace of it.
          forget();
          // Its files' paths are the client's (relative to the model folder), not the server's.
          if (err instanceof Error) err.message = err.message.split(upload.repository + path.sep).join('');
        }
        if (isTenancyError(err, 'NOT_FOUND')) forget();
        throw err;
      }
      // The versions now serving come from this upload (or from the repository): the one before goes.
      await this.record(name).adopt(upload)?.remove();
    });
  }

  /**
   * Changes a loaded model's config (its placement, batching) and keeps its files where they are:
   * a model sent with its load stays that model (load() without files would go back to the
   * repository, as the protocol's load does). `chosen`: the engine made this change (the live
   * tuner), not the user; what and why is kept on the model as its defaults are, and it is made
   * only while the model is still served on the engine's choice: a placement or load that came
   * first (they are serialized) is the user's word and stands.
   */
  async reconfigure(name: string, config: unknown, chosen?: ServingDefaults): Promise<void> {
    await this.serialize(name, async () => {
      if (chosen && !this.records.get(name)?.versions[0]?.defaults)
        throw errors.modelNotReady(
          name,
          'placed',
          "placed or loaded with a stated config meanwhile; the engine's change is dropped",
        );
      await this.loadFrom(
        this.records.get(name)?.upload?.repository ?? (await this.repositoryOf(name)),
        name,
        config,
        chosen,
      );
    });
  }

  /**
   * The repository that holds a model. A model in none or in two of them is a load that fails
   * (NOT_FOUND leaves no trace; two folders mark the model failed with both named).
   */
  private async repositoryOf(name: string): Promise<string> {
    return locateModel(this.repositories, name).catch((err) => {
      if (!isTenancyError(err, 'NOT_FOUND')) this.record(name).failed(err);
      throw err;
    });
  }

  private async loadFrom(
    repository: string,
    name: string,
    configOverride?: unknown,
    chosen?: ServingDefaults,
  ): Promise<void> {
    const def = await this.withDefaults(
      await readModelDefinition(repository, name, configOverride).catch((err) => {
        // A model that is not there is not a model that failed: its state (if any) stays as it was.
        if (!isTenancyError(err, 'NOT_FOUND')) this.record(name).failed(err);
        throw err;
      }),
      chosen,
    );
    const used = this.threadsInUse(name);
    const plan = splitThreads(
      this.cores,
      def.versions.map((v) => threadRequest(`${name}:${v.version}`, v.config)),
      used,
    );
    const old = this.records.get(name)?.versions ?? [];
    if (onlyGroupsDiffer(old, def)) {
      // Same model files and settings: change the running versions' instances in place, no reload.
      for (const [i, m] of old.entries())
        admitMemory(name, m.file, cpuInstances(def.versions[i].config) - m.instances.length, 0.9, weightsOf(m.config));
      this.admitAccelerators(
        name,
        def.versions.flatMap((v) => v.config.instance_group),
        name,
      );
      await Promise.all(
        old.map((m, i) =>
          m.applyInstanceGroups(def.versions[i].config, plan.get(`${name}:${m.version}`)!, def.versions[i].defaults),
        ),
      );
      return;
    }
    const replaced = await this.start(def, plan);
    await Promise.all(replaced.map((m) => m.unload()));
  }

  async unload(name: string): Promise<void> {
    const record = this.records.get(name);
    if (!record) throw errors.modelNotFound(name, [...this.records.keys()]);
    // New requests are refused from this moment; accepted ones finish before the instances stop.
    record.unloading();
    const draining = record.versions.map((m) => m.unload());
    await record.serialize(async () => {
      await Promise.all([...draining, ...record.versions.map((m) => m.unload())]); // a load may have run meanwhile
      await record.unloaded();
    });
  }

  /**
   * Starts the versions of `def` and serves them; returns the versions they replace (to unload).
   * On failure the versions serving before (if any) stay, and a name with none is unavailable.
   */
  private async start(def: ServedDefinition, plan: Map<string, number[]>): Promise<readonly Model[]> {
    const record = this.record(def.name);
    const keepOldOnFailure = record.versions.length > 0;
    try {
      for (const v of def.versions) admitMemory(def.name, v.file, cpuInstances(v.config), 0.9, weightsOf(v.config));
      this.admitAccelerators(
        def.name,
        def.versions.flatMap((v) => v.config.instance_group),
        keepOldOnFailure ? def.name : undefined,
      );
    } catch (err) {
      record.failed(err);
      throw err;
    }
    const models = def.versions.map(
      (v) =>
        new Model(
          v,
          plan.get(`${def.name}:${v.version}`)!,
          this.log.child({ model: def.name, version: v.version }),
          this.resolver,
        ),
    );
    record.loading();
    // Every version's load ends before any is undone: none keeps starting instances after its unload.
    const loads = await Promise.allSettled(models.map((m) => m.load()));
    const failed = loads.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      await Promise.all(models.map((m) => m.unload().catch(() => {})));
      record.failed(failed.reason);
      this.log.error({ model: def.name, err: (failed.reason as Error).message }, 'model failed to load');
      throw failed.reason;
    }
    return record.serve(models);
  }

  /**
   * The configs to serve: where a config leaves instance_group or dynamic_batching out, the
   * measured defaults of serving-defaults.ts (instances sized by the cores and the free memory),
   * or what the live tuner stored for the model file at an earlier start.
   */
  private async withDefaults(def: ModelDefinition, chosen?: ServingDefaults): Promise<ServedDefinition> {
    const leftOut = def.leftOut.instanceGroup || def.leftOut.dynamicBatching;
    const versions = await Promise.all(
      def.versions.map(async (v) => {
        const lookup = leftOut ? this.storedTuning : undefined;
        const stored = lookup
          ? await lookup(
              def.name,
              v.file,
              configShapesKey(withGivenShapes(buildInputTable(v.config), this.shapes)),
            ).catch(() => null)
          : null;
        const { config, defaults } = applyServingDefaults(v.config, def.leftOut, {
          cores: this.cores,
          instanceBytes: estimateInstanceBytes(v.file),
          memoryBytes: os.freemem() * 0.5,
          stored,
        });
        return { ...v, config, defaults: chosen ?? defaults, shapes: this.shapes };
      }),
    );
    return { ...def, versions };
  }

  /**
   * Instances asked for on simulated accelerators must fit their max_concurrent, with what runs there
   * (but `replacing`'s own).
   */
  private admitAccelerators(model: string, groups: { count: number; device: string }[], replacing?: string): void {
    for (const d of this.devices.filter((x) => x.kind === 'sim')) {
      const adding = groups.filter((g) => g.device === d.id).reduce((n, g) => n + g.count, 0);
      let already = 0;
      for (const m of this.loaded())
        if (m.name !== replacing) already += m.instances.filter((i) => i.device === d.id).length;
      admitAccelerator(model, d, already, adding);
    }
  }

  private threadsInUse(except: string): number {
    let n = 0;
    for (const m of this.loaded()) if (m.name !== except) for (const i of m.instances) n += i.threads;
    return n;
  }

  /** The record of `name`, made on first use (its first load). */
  private record(name: string): ModelRecord {
    let r = this.records.get(name);
    if (!r) {
      r = new ModelRecord(name);
      this.records.set(name, r);
    }
    return r;
  }

  private serialize(name: string, work: () => Promise<void>): Promise<void> {
    return this.record(name).serialize(work);
  }

  private unknownModel(name: string): Error {
    return this.starting ? errors.notLoadedYet(name) : errors.modelNotFound(name, [...this.records.keys()]);
  }

  private serving(name: string, version?: number): Model {
    const r = this.records.get(name);
    if (!r) throw this.unknownModel(name);
    return r.pick(version);
  }

  /** The model version that serves a request (the given version or the newest loaded), read only. */
  model(name: string, version?: number): ModelView {
    return this.serving(name, version);
  }

  /** Runs one inference. Rejects with a TenancyError whose code says what went wrong. */
  async infer(name: string, inputs: TensorMap, options: InferOptions = {}): Promise<InferResult> {
    return this.serving(name, options.version).infer(inputs, options);
  }

  /** Every model the engine knows, with its state and why it is not ready. */
  index(): ModelIndexEntry[] {
    return [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name)).flatMap((r) => r.rows());
  }

  /** Statistics of every loaded model version (or one model's versions). */
  stats(name?: string): ModelStatistics[] {
    if (name !== undefined && !this.records.has(name)) throw this.unknownModel(name);
    return this.versions(name).map((m) => m.stats.snapshot());
  }

  /** Loaded model versions, read only, for front ends that describe placement and instances. */
  loaded(): readonly ModelView[] {
    return this.versions();
  }

  private versions(name?: string): Model[] {
    const records =
      name === undefined ? [...this.records.values()] : [this.records.get(name)].filter((r) => r !== undefined);
    return records.flatMap((r) => r.versions);
  }

  /** Requests received per model so far (all versions), for the placement controller. */
  arrivals(): Map<string, number> {
    return this.perModel((m) => m.received);
  }

  /** Requests waiting per model now. */
  queued(): Map<string, number> {
    return this.perModel((m) => m.queued);
  }

  private perModel(figure: (m: Model) => number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, r] of this.records)
      out.set(
        name,
        r.versions.reduce((n, m) => n + figure(m), 0),
      );
    return out;
  }

  /**
   * Every model sends the partial batches it holds for fuller ones now: a server that is shutting
   * down finishes its requests without waiting out max_queue_delay.
   */
  flushQueues(): void {
    for (const m of this.versions()) m.flush();
  }

  /** Unloads everything, letting accepted requests finish. */
  async close(): Promise<void> {
    await Promise.all([...this.records.values()].map((r) => (r.versions.length ? this.unload(r.name) : undefined)));
  }
}

/**
 * True when `def` is the loaded versions again with only the placement changed: instance_group
 * (counts, devices, threads, hosts) and the dynamic batcher's sizes and queue delay.
 */
function onlyGroupsDiffer(old: readonly Model[], def: ServedDefinition): boolean {
  if (old.length === 0 || old.length !== def.versions.length) return false;
  const withoutGroups = (c: Model['config']) =>
    JSON.stringify({
      ...c,
      instance_group: [],
      dynamic_batching: c.dynamic_batching && {
        ...c.dynamic_batching,
        preferred_batch_size: [],
        max_queue_delay_microseconds: 0,
      },
    });
  return old.every((m, i) => {
    const v = def.versions[i];
    return (
      m.version === v.version &&
      m.file === v.file &&
      m.state === 'ready' &&
      withoutGroups(m.config) === withoutGroups(v.config)
    );
  });
}

/** Instances that hold memory here (a simulated device's do not). */
function cpuInstances(config: { instance_group: { count: number; device: string }[] }): number {
  return config.instance_group.filter((g) => !g.device.startsWith('sim:')).reduce((n, g) => n + g.count, 0);
}

function threadRequest(
  key: string,
  config: {
    instance_group: { count: number; device: string; threads?: number }[];
    parameters: Record<string, { string_value: string }>;
  },
): ThreadRequest {
  const fixed = runtimeParameters(config).intraOpThreads;
  // Simulated devices spend no CPU; groups with their own thread count are outside the split.
  const budgeted = config.instance_group.filter((g) => !g.device.startsWith('sim:') && g.threads === undefined);
  return { key, instances: budgeted.reduce((n, g) => n + g.count, 0), ...(fixed ? { fixed } : {}) };
}

export { TenancyError };

/** How a config's instances hold the weights, for admission: private only when it says share_weights false. */
function weightsOf(config: Pick<ModelConfig, 'parameters'>): WeightsMode | undefined {
  const share = runtimeParameters(config).shareWeights;
  return share === undefined ? undefined : share ? 'shared' : 'private';
}
