/**
 * The in-process engine as a benchmark target: requests go straight to engine.infer (no network),
 * statistics come from engine.stats(), memory is this process's RSS plus what process hosts report.
 */
import os from 'node:os';
import { Engine } from '../engine/index.js';
import {
  describeRepositories,
  locateModel,
  readModelDefinition,
  scanRepositories,
  type RepositoryPaths,
} from '../repository/index.js';
import type { TensorMap } from '../tensor.js';
import type { Device } from '../runtime/index.js';
import type { ModelStatistics } from '../engine/index.js';
import type { Target, TargetInstance, TargetMemory, TargetModel } from './target.js';
import { pssBytes } from './proportional-memory.js';

export interface EngineTargetOptions {
  /** One repository, or several served as one namespace. */
  repository: string | RepositoryPaths;
  /** Cores the engine's thread budget may hand out; default all. */
  cores?: number;
  /** The device inventory (core sets, GPU, simulated accelerators); default the CPU alone. */
  devices?: Device[];
}

export class EngineTarget implements Target {
  readonly kind = 'engine' as const;
  readonly description: string;
  readonly engine: Engine;
  private readonly originals = new Map<string, { config: Record<string, unknown>; file: string }>();

  constructor(options: EngineTargetOptions) {
    this.engine = new Engine({ repository: options.repository, cores: options.cores, devices: options.devices });
    this.description = `engine (in-process) on ${describeRepositories(this.engine.repositories)}`;
  }

  async models(): Promise<string[]> {
    const entries = await scanRepositories(this.engine.repositories);
    return [...new Set(entries.filter((e) => e.versions.length > 0).map((e) => e.name))];
  }

  private async original(model: string): Promise<{ config: Record<string, unknown>; file: string }> {
    let o = this.originals.get(model);
    if (!o) {
      // The completed config (inputs filled from the ONNX file) is valid as an override, as
      // GET /v2/models/{m}/config would return it from a server.
      const def = await readModelDefinition(await locateModel(this.engine.repositories, model), model);
      const v = def.versions[0];
      o = { config: structuredClone(v.config) as unknown as Record<string, unknown>, file: v.file };
      this.originals.set(model, o);
    }
    return o;
  }

  async config(model: string): Promise<Record<string, unknown>> {
    return structuredClone((await this.original(model)).config);
  }

  async load(model: string, config?: Record<string, unknown>): Promise<void> {
    await this.original(model);
    await this.engine.load(model, config);
  }

  async unload(model: string): Promise<void> {
    if (this.engine.loaded().some((m) => m.name === model)) await this.engine.unload(model);
  }

  async metadata(model: string): Promise<TargetModel> {
    const m = this.engine.model(model);
    return {
      name: model,
      maxBatchSize: m.table.maxBatchSize,
      inputs: [...m.table.inputs.values()].map((i) => ({ ...i, dims: [...i.dims] })),
    };
  }

  async infer(model: string, inputs: TensorMap): Promise<void> {
    await this.engine.infer(model, inputs);
  }

  async statistics(model: string): Promise<ModelStatistics | null> {
    return this.engine.stats(model)[0] ?? null;
  }

  async instances(model: string): Promise<TargetInstance[]> {
    return this.engine
      .model(model)
      .instances.map((i) => ({ name: i.name, threads: i.threads, host: i.hostKind, memoryBytes: i.memoryBytes }));
  }

  /** Proportional memory where Linux reports it (shared weights counted once), resident memory elsewhere. */
  async memory(): Promise<TargetMemory> {
    let outside = 0;
    for (const m of this.engine.loaded())
      for (const i of m.instances)
        if (i.hostKind === 'process') outside += (i.pid !== undefined ? pssBytes(i.pid) : null) ?? i.memoryBytes ?? 0;
    return { processRssBytes: pssBytes() ?? process.memoryUsage.rss(), outsideBytes: outside };
  }

  async modelFile(model: string): Promise<string | null> {
    return (await this.original(model)).file;
  }

  /** The engine's devices (the inventory it was given). */
  devices(): Device[] {
    return this.engine.devices;
  }

  /**
   * Adds devices the engine may place instances on, e.g. core sets an experiment makes up when the
   * devices file has none. The engine resolves device ids on every load, so later loads see them.
   */
  addDevices(devices: Device[]): void {
    for (const d of devices) if (!this.engine.devices.some((x) => x.id === d.id)) this.engine.devices.push(d);
  }

  cores(): number {
    return this.engine.cores ?? os.availableParallelism();
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}
