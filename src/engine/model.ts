/**
 * One loaded version of a model: its config, input table, instances, scheduler and statistics.
 * It owns its instances: starts them (warmed before they take requests), replaces a crashed one,
 * and on unload lets every accepted request finish before stopping them.
 */
import type { Logger } from 'pino';
import { errors, type TenancyError } from '../errors.js';
import type { TensorMap } from '../tensor.js';
import type { ModelConfig, VersionDefinition } from '../repository/index.js';
import {
  ModelInstance,
  preciseNow,
  type Device,
  type HostKind,
  type RunResult,
  type SessionOptions,
  type SimulatedModel,
  type WarmupRun,
} from '../runtime/index.js';
import { runtimeParameters, tensorDataType } from '../repository/index.js';
import { Scheduler, batchKey } from '../scheduler/index.js';
import { schedulerOptions, requestLevel, requestTimeoutMs } from './scheduling.js';
import { ModelStats, phaseTimes } from './model-stats.js';
import { buildInputTable, validateInputs, type InputTable } from './validate.js';
import { ImagePipeline } from '../preprocess/index.js';
import type { InferenceRequest, InferOptions, InferResult } from './request.js';
import type { ServingDefaults } from './serving-defaults.js';
import { configShapesKey, shapesKey, withGivenShapes } from './shapes-key.js';
import { reshaperFor, type Reshaper } from './reshape.js';
import { warmupRuns } from './warmup.js';
import { Lifecycle, UNLOADED, type ModelState } from './lifecycle.js';
import type { LatencyView } from './latency-histogram.js';
import { CrashLog, type InstanceCrash } from './instance-crashes.js';

export type { ModelState };

/** What front ends may read of an instance (metrics, placement, describe): no handle to stop or run it. */
export type InstanceView = Readonly<
  Pick<
    ModelInstance,
    | 'name'
    | 'device'
    | 'threads'
    | 'hostKind'
    | 'hostLabel'
    | 'pid'
    | 'state'
    | 'reason'
    | 'memoryBytes'
    | 'busy'
    | 'inflight'
    | 'ready'
    | 'weights'
    | 'weightsNote'
    | 'sessionOptions'
  >
>;

/**
 * A loaded model version as front ends and the engine's policies (tuner, placement) see it: read
 * only. Changes go through the Engine (load, reconfigure, unload), which serializes them per model.
 */
export interface ModelView {
  readonly name: string;
  readonly version: number;
  readonly file: string;
  readonly labels: Record<string, string[]>;
  readonly table: InputTable;
  readonly config: Readonly<ModelConfig>;
  readonly state: ModelState;
  readonly reason: string;
  readonly instances: readonly InstanceView[];
  /** What the engine chose where the config was silent (serving-defaults.ts); null: all from the config. */
  readonly defaults: ServingDefaults | null;
  /** Requests received, accepted or not: the controller's measure of demand. */
  readonly received: number;
  /** Inferences completed (a request of batch n counts n): the live tuner's measure of throughput. */
  readonly completed: number;
  readonly queued: number;
  readonly inflight: number;
  readonly shapes: string | null;
  /** The successful requests' latency distribution, all transports (latency-histogram.ts). */
  readonly latency: LatencyView;
  /** Instances that died unexpectedly, with the host's reason, newest last (instance-crashes.ts). */
  readonly crashes: readonly InstanceCrash[];
}

/** A replacement that fails this many times in a row is not tried again (no restart loops). */
const MAX_CONSECUTIVE_RESTART_FAILURES = 3;
let nextSeq = 1;

export class Model implements ModelView {
  readonly name: string;
  readonly version: number;
  readonly labels: Record<string, string[]>;
  readonly file: string;
  readonly table: InputTable;
  readonly stats: ModelStats;
  /** Replaced only by applyInstanceGroups (a config that differs in instance groups and batch sizes alone). */
  private current: ModelConfig;
  private chosen: ServingDefaults | null;
  private readonly life: Lifecycle;
  /** Every instance started and not stopped, ready or starting: the scheduler picks among the ready ones. */
  private pool: ModelInstance[] = [];
  private readonly scheduler: Scheduler;
  /** Encoded images → the input tensor, for a model whose config has image_input. */
  private readonly images: ImagePipeline | null;
  /** Config dims <-> the model file's shapes, for a config with reshape (reshape.ts); null without. */
  private readonly reshape: Reshaper | null;
  private nextIndex = 0;
  private restartFailures = 0;
  private starting = 0;
  private unloading?: Promise<void>;
  private receivedCount = 0;
  private completedCount = 0;
  private readonly configShapes: string | null;
  /** The input table with the sizes `serve --shape` gave for dynamic dims (warm-up, tuning key). */
  private readonly sized: InputTable;
  /** The runs each instance makes before it is ready (engine/warmup.ts). */
  private readonly warmup: WarmupRun[];
  /** With dynamic dims: the last request's input shapes, by the table's input order (the key is made when asked). */
  private lastShapes: (readonly number[] | undefined)[] | null = null;
  private readonly inputNames: string[];
  private readonly crashLog = new CrashLog();

  constructor(
    def: VersionDefinition & { defaults?: ServingDefaults | null; shapes?: Record<string, number[]> },
    private readonly threads: number[],
    private readonly log: Logger,
    private readonly devices: DeviceResolver,
  ) {
    this.name = def.config.name;
    this.version = def.version;
    this.current = def.config;
    this.life = new Lifecycle(`model "${this.name}" version ${this.version}`);
    this.labels = def.labels;
    this.file = def.file;
    this.chosen = def.defaults ?? null;
    this.table = buildInputTable(def.config);
    this.sized = withGivenShapes(this.table, def.shapes ?? {});
    this.configShapes = configShapesKey(this.sized);
    this.inputNames = [...this.table.inputs.keys()];
    this.images = ImagePipeline.fromConfig(def.config);
    this.reshape = reshaperFor(def.config);
    this.warmup = warmupRuns(def.config.model_warmup, def.warmupData, this.sized, this.reshape);
    this.stats = new ModelStats(this.name, this.version);
    this.scheduler = new Scheduler(schedulerOptions(def.config), () => this.pool, {
      settled: (req, result, error, instance) => this.settled(req, result, error, instance),
      executed: (rows, result) => this.stats.execution(rows, result),
    });
  }

  get config(): Readonly<ModelConfig> {
    return this.current;
  }

  get defaults(): ServingDefaults | null {
    return this.chosen;
  }

  get state(): ModelState {
    return this.life.state;
  }

  get reason(): string {
    return this.life.reason;
  }

  get instances(): readonly InstanceView[] {
    return this.pool;
  }

  get received(): number {
    return this.receivedCount;
  }

  get completed(): number {
    return this.completedCount;
  }

  get latency(): LatencyView {
    return this.stats.latency;
  }

  get crashes(): readonly InstanceCrash[] {
    return this.crashLog.entries;
  }

  /**
   * Starts every instance; fails (and stops the rest) if any cannot load. An unload that begins
   * meanwhile wins: it stops what started, and the load ends with the model not ready.
   */
  async load(): Promise<void> {
    const specs = instanceSpecs(this.current, this.threads);
    const results = await Promise.allSettled(specs.map((spec) => this.startInstance(spec)));
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      const pool = this.pool;
      this.pool = [];
      await Promise.all(pool.map((i) => i.stop().catch(() => {})));
      this.life.tryMove('unavailable', (failed.reason as Error).message);
      throw failed.reason;
    }
    if (!this.life.tryMove('ready')) throw errors.modelNotReady(this.name, this.life.state, this.life.reason);
  }

  private async startInstance(spec: InstanceSpec): Promise<ModelInstance> {
    const device = this.devices.resolve(spec.device);
    const { threads } = spec;
    const instance = new ModelInstance({
      // A core set needs a process to pin. A GPU instance needs its own process: ONNX Runtime's
      // WebGPU provider keeps one device context per process, and two worker threads using it at
      // once fail ("CommandEncoder is already finished") and crash the process (seen on an H100).
      host: (device.cores && spec.device !== 'cpu') || device.kind === 'gpu' ? 'process' : spec.host,
      cpus: spec.device.startsWith('cpu:') ? device.cores : undefined,
      device: spec.device,
      name: `${this.name}:${this.version}#${this.nextIndex++}`,
      file: this.file,
      session: this.sessionOptions(threads, device.kind === 'gpu' ? ['webgpu'] : ['cpu']),
      simulated: device.kind === 'sim' ? this.simulation(device) : undefined,
      warmup: this.warmup,
    });
    this.pool.push(instance);
    let started = false;
    instance.on('crash', (why) => {
      this.crashLog.note('crash', instance.name, `${instance.hostLabel} ${why}`);
      // A crash before its start ended fails that start: whoever started it (the load, or the
      // replacement's retry below) handles it. Replacing it here too would start two.
      if (started) this.onCrash(instance, why);
    });
    this.starting++;
    try {
      await instance.start();
      started = true;
      // An unload began while it started: it is not wanted (drainAndStop may have stopped the pool already).
      if (this.life.state === 'unloading' || this.life.state === 'unavailable') {
        await instance.stop().catch(() => {});
        throw errors.modelNotReady(this.name, this.life.state, this.life.reason);
      }
      this.log.info(
        {
          instance: instance.name,
          host: instance.hostLabel,
          threads,
          rssMB: instance.memoryBytes && Math.round(instance.memoryBytes / 2 ** 20),
          loadMs: instance.ready?.loadMs,
          warmupMs: instance.ready?.warmupMs,
          weights: instance.weights,
        },
        'instance ready',
      );
      if (instance.weightsNote)
        this.log.warn({ instance: instance.name, why: instance.weightsNote }, 'weights not shared: a private copy');
    } catch (err) {
      this.pool = this.pool.filter((i) => i !== instance);
      throw err;
    } finally {
      this.starting--;
    }
    this.scheduler.dispatch();
    return instance;
  }

  private sessionOptions(threads: number, executionProviders: string[]): SessionOptions {
    const p = runtimeParameters(this.current);
    return {
      intraOpThreads: threads,
      interOpThreads: p.interOpThreads ?? 1,
      spinning: p.spinning,
      executionProviders,
      // share_weights "false" gives each instance its own copy; unset: the runtime's default.
      shareWeights: p.shareWeights,
      ...(p.executionMode ? { executionMode: p.executionMode } : {}),
      ...(p.memArena === false ? { memArena: false } : {}),
      // Stated either way, these win over the shared copy's lean defaults (shared-weights.ts).
      ...(p.memPattern !== undefined ? { memPattern: p.memPattern } : {}),
      ...(p.prepacking !== undefined ? { prepacking: p.prepacking } : {}),
    };
  }

  /** A simulated accelerator runs the model at the latency its table gives (and fails to load without one). */
  private simulation(device: Device): SimulatedModel {
    const latencyMs = device.latencyMs?.[this.name];
    if (latencyMs === undefined) {
      throw errors.invalidArg(
        `${device.id} (simulated) has no latency for model "${this.name}" ` +
          `(it has: ${Object.keys(device.latencyMs ?? {}).join(', ') || 'none'})`,
      );
    }
    const info = (t: { name: string; data_type: string; dims: number[] }) => ({
      name: t.name,
      datatype: tensorDataType(t as never),
      dims: t.dims,
    });
    return {
      latencyMs,
      inputs: this.current.input.map(info),
      outputs: this.current.output.map(info),
      batches: this.current.max_batch_size > 0,
    };
  }

  /** A crashed instance's own request has already failed; start a replacement for the rest. */
  private onCrash(instance: ModelInstance, why: string): void {
    const spec: InstanceSpec = { threads: instance.threads, host: instance.hostKind, device: instance.device };
    this.pool = this.pool.filter((i) => i !== instance);
    this.log.warn({ instance: instance.name, why }, 'instance crashed');
    // Replacements are for a model that serves: a crash while it loads fails the load itself.
    if (this.state !== 'ready') return;
    if (this.restartFailures >= MAX_CONSECUTIVE_RESTART_FAILURES) return this.giveUpIfEmpty();
    this.startInstance(spec).then(
      () => (this.restartFailures = 0),
      (err) => {
        this.restartFailures++;
        this.log.error({ err: (err as Error).message }, 'replacement instance failed to start');
        this.crashLog.note('replacement-failed', instance.name, (err as Error).message);
        if (this.restartFailures < MAX_CONSECUTIVE_RESTART_FAILURES) this.onCrash(instance, 'replacement failed');
        else this.giveUpIfEmpty();
      },
    );
  }

  private giveUpIfEmpty(): void {
    if (this.pool.some((i) => i.state === 'ready') || this.starting > 0) return;
    const why = `every instance failed and ${MAX_CONSECUTIVE_RESTART_FAILURES} replacements in a row could not start`;
    if (!this.life.tryMove('unavailable', why)) return; // unloading meanwhile: the unload ends it
    this.scheduler.failQueued(errors.modelNotReady(this.name, this.state, this.reason));
  }

  async infer(inputs: TensorMap, options: InferOptions = {}): Promise<InferResult> {
    this.receivedCount++;
    if (this.state !== 'ready') throw errors.modelNotReady(this.name, this.state, this.reason);
    let preprocessMs = 0;
    if (this.images?.applies(inputs)) {
      // Before validation: the pipeline turns the BYTES images into the input the table expects.
      const t0 = preciseNow();
      inputs = await this.images.run(inputs);
      preprocessMs = preciseNow() - t0;
      if (this.state !== 'ready') throw errors.modelNotReady(this.name, this.state, this.reason);
    }
    const batchSize = validateInputs(this.table, inputs, options.outputs);
    if (this.configShapes === null) this.lastShapes = this.inputNames.map((n) => inputs[n]?.shape);
    if (this.reshape) inputs = this.reshape.toModel(inputs);
    const level = requestLevel(this.current, options.priority);
    const timeoutMs = requestTimeoutMs(this.current, level, options.timeoutMs);
    const now = preciseNow();
    return new Promise<InferResult>((resolve, reject) => {
      const req: InferenceRequest = {
        seq: nextSeq++,
        model: this.name,
        version: this.version,
        id: options.id,
        inputs,
        outputs: options.outputs,
        batchSize,
        batchKey: this.current.dynamic_batching ? batchKey(inputs, options.outputs) : '',
        level,
        timeoutMs,
        deadline: timeoutMs > 0 ? now + timeoutMs : Infinity,
        signal: options.signal,
        receivedAt: now,
        preprocessMs,
        settled: false,
        resolve,
        reject,
      };
      this.scheduler.enqueue(req);
    });
  }

  private settled(req: InferenceRequest, r: RunResult | null, error: TenancyError | null, instance: string): void {
    const doneAt = preciseNow();
    if (!r || error) {
      this.stats.fail(req, doneAt);
      req.reject(error ?? errors.internal('request ended without a result'));
      return;
    }
    this.stats.success(req, r, doneAt);
    this.completedCount += req.batchSize;
    req.resolve({
      model: this.name,
      version: this.version,
      id: req.id,
      outputs: this.reshape ? this.reshape.toClient(r.outputs) : r.outputs,
      instance,
      timing: phaseTimes(req, r, doneAt),
      timestamps: {
        received: req.receivedAt,
        dispatched: r.sentAt,
        computeStart: r.computeStart,
        computeEnd: r.computeEnd,
        done: doneAt,
      },
    });
  }

  /**
   * Applies new instance groups (and batch sizes, queue delay) in place, without dropping a request:
   * instances that already match a wanted (device, threads, host) stay; the missing ones start, warm,
   * then join the pool; the surplus (idle ones first) leave the pool at once and stop after their
   * running request. If a new instance cannot start, the ones started are stopped and the old groups
   * stay.
   * `threads` gives the budgeted threads of the instances without a fixed count (index-aligned).
   */
  async applyInstanceGroups(
    config: ModelConfig,
    threads: number[],
    defaults: ServingDefaults | null = null,
  ): Promise<void> {
    if (this.state !== 'ready') throw errors.modelNotReady(this.name, this.state, this.reason);
    const pool = [...this.pool].sort((a, b) => Number(a.busy) - Number(b.busy));
    const missing: InstanceSpec[] = [];
    for (const spec of instanceSpecs(config, threads)) {
      const i = pool.findIndex(
        (x) =>
          x.device === spec.device && x.threads === spec.threads && (x.hostKind === spec.host || x.device !== 'cpu'),
      );
      if (i >= 0) pool.splice(i, 1);
      else missing.push(spec);
    }
    const started = await Promise.allSettled(missing.map((spec) => this.startInstance(spec)));
    const failed = started.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) {
      const extra = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      this.pool = this.pool.filter((i) => !extra.includes(i));
      await Promise.all(extra.map((i) => i.stop().catch(() => {})));
      throw failed.reason;
    }
    const surplus = pool; // what no wanted spec claimed
    this.pool = this.pool.filter((i) => !surplus.includes(i));
    this.scheduler.setBatching(schedulerOptions(config).batching);
    await Promise.all(surplus.map((i) => i.stop()));
    this.current = config;
    this.chosen = defaults;
    this.log.info({ instances: this.pool.length }, 'instance count changed in place');
  }

  get queued(): number {
    return this.scheduler.queued;
  }

  /**
   * The input shapes requests carry (shapes-key.ts): the config's when its dims are fixed, else the
   * last request's; null before one.
   */
  get shapes(): string | null {
    if (this.configShapes !== null || this.lastShapes === null) return this.configShapes;
    const shapes = this.lastShapes;
    return shapesKey(
      this.table,
      this.inputNames.flatMap((n, i) => (shapes[i] ? [[n, shapes[i]!] as const] : [])),
    );
  }

  get inflight(): number {
    return this.scheduler.inflight;
  }

  /** Refuses new requests, lets every accepted one finish, then stops the instances. */
  unload(): Promise<void> {
    this.unloading ??= this.drainAndStop();
    return this.unloading;
  }

  /** Sends partial batches waiting for fuller ones now (Scheduler.flush). */
  flush(): void {
    this.scheduler.flush();
  }

  private async drainAndStop(): Promise<void> {
    this.life.move('unloading');
    if (!this.pool.some((i) => i.state === 'ready'))
      this.scheduler.failQueued(errors.modelNotReady(this.name, 'unloading'));
    this.scheduler.flush();
    await this.scheduler.idle();
    const pool = this.pool;
    this.pool = [];
    await Promise.all(pool.map((i) => i.stop()));
    this.life.move('unavailable', UNLOADED);
  }
}

/** Where and how one instance runs. */
interface InstanceSpec {
  threads: number;
  host: HostKind;
  device: string;
}

/** The engine's view of its devices: a device id → the device, or a clear error. */
export interface DeviceResolver {
  resolve(id: string): Device;
}

/** One spec per instance, in instance_group order; `threads` is index-aligned with the instances. */
function instanceSpecs(config: ModelConfig, threads: number[]): InstanceSpec[] {
  // Instances on a simulated device spend no CPU: the thread budget lists only the others.
  const groups = config.instance_group.flatMap((g) => Array.from({ length: g.count }, () => g));
  let next = 0;
  return groups.map((g) => ({
    threads: g.device.startsWith('sim:') ? 1 : (g.threads ?? threads[next++] ?? 1),
    host: g.host,
    device: g.device,
  }));
}
