/**
 * The engine's placement front: what GET/PUT /v2/placement and `serve --placement auto` use.
 * It knows the devices' capacities, where memory per instance comes from (a stored profile, or
 * an estimate from the model file's size), refuses a placement that does not fit with the
 * reason, and runs the controller in auto mode.
 */
import { errors } from '../errors.js';
import {
  Controller,
  placementFitProblems,
  planOnDevices,
  type ControllerOptions,
  type ControllerStatus,
  type DeviceCapacity,
  type ModelProfile,
  type PlacementEntry,
} from '../placement/index.js';
import type { Engine } from './engine.js';
import { estimateInstanceBytes } from './admission.js';
import { applyPlacement, currentPlacement, placementEntryProblems, placementRefused } from './placement.js';
import { memoryFigures, type MemoryView } from './memory-figures.js';
import type { LiveTuner, ModelTuning } from './tuner.js';

export interface PlacementManagerOptions {
  /** Stored profiles (measured or simulated); memory per instance and the planner use them. */
  profiles?: () => ModelProfile[];
  /** Share of each device's memory that instances may use. Default 0.9. */
  memoryShare?: number;
  /** Controller settings for auto mode. */
  controller?: Omit<ControllerOptions, 'profiles' | 'devices'>;
  /** The live tuner, in tune mode (the default of `tenancy serve`). */
  tuner?: LiveTuner;
}

export interface PlacementView {
  /**
   * tune: defaults where configs are silent, tuned live; manual: as configs and PUT say; auto: planned
   * from profiles.
   */
  mode: 'tune' | 'manual' | 'auto';
  entries: PlacementEntry[];
  /** Per model: who chose its instances and batching, and why (the engine's defaults where the config is silent). */
  models: ModelConfiguration[];
  devices: (DeviceCapacity & { description: string })[];
  controller: ControllerStatus | null;
}

/** Who chose a model's instances and batching. */
export interface ModelConfiguration {
  model: string;
  /**
   * "config": as its config states (or as a placement set it); "defaults": the engine's measured
   * defaults where the config is silent; "stored": what the live tuner found at an earlier start;
   * "tuner": the live tuner's choice in this run.
   */
  source: 'config' | 'defaults' | 'stored' | 'tuner';
  instances: string | null;
  batching: string | null;
  reasons: string[];
  /** The live tuner's state for it (tune mode), else null. */
  tuning: ModelTuning | null;
}

function modelConfigurations(engine: Engine, tuner?: LiveTuner): ModelConfiguration[] {
  const out = new Map<string, ModelConfiguration>();
  const tuning = new Map((tuner?.status() ?? []).map((t) => [t.model, t]));
  for (const m of engine.loaded()) {
    if (out.has(m.name)) continue;
    const d = m.defaults;
    out.set(m.name, {
      model: m.name,
      source: d?.source ?? 'config',
      instances: d?.instances ?? null,
      batching: d?.batching ?? null,
      reasons: d?.reasons ?? [],
      tuning: tuning.get(m.name) ?? null,
    });
  }
  return [...out.values()];
}

export class PlacementManager {
  private controller: Controller | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly options: PlacementManagerOptions = {},
  ) {}

  capacities(): (DeviceCapacity & { description: string })[] {
    const share = this.options.memoryShare ?? 0.9;
    return this.engine.devices
      .filter((d) => d.available)
      .map((d) => ({
        device: d.id,
        cores: d.kind === 'cpu' ? (d.id === 'cpu' ? this.engine.cores : (d.cores?.length ?? 0)) : 0,
        memoryBytes:
          d.kind === 'gpu' && !d.memoryBytes ? Infinity : Math.round(d.memoryBytes * (d.simulated ? 1 : share)),
        maxInstances: d.kind === 'sim' ? (d.maxConcurrent ?? 1) : Infinity,
        simulated: d.simulated,
        description: d.description,
      }));
  }

  private cpuMemoryBudget(): number {
    return Math.round(
      (this.engine.devices.find((d) => d.id === 'cpu')?.memoryBytes ?? 0) * (this.options.memoryShare ?? 0.9),
    );
  }

  memoryPerInstance(model: string, device: string): number {
    const p = this.options.profiles?.().find((x) => x.model === model && x.device === device)?.points[0];
    if (p?.memoryPerInstance) return p.memoryPerInstance;
    // Weights are shared between the CPU instances of a model; an accelerator holds its own copy.
    const file = this.engine.model(model).file;
    return device === 'cpu' || device.startsWith('cpu:')
      ? estimateInstanceBytes(file)
      : estimateInstanceBytes(file, 'private');
  }

  /**
   * Memory of the server and of every loaded model version and instance, each figure measured
   * (/proc) or estimated and labelled (memory-figures.ts). Read when asked: GET /v2/placement adds
   * it to the view; the dashboard's once-a-second view() does not pay for reading /proc.
   */
  memory(): MemoryView {
    return memoryFigures(this.engine.loaded(), {
      profileBytes: (model, device) =>
        this.options.profiles?.().find((x) => x.model === model && x.device === device)?.points[0]?.memoryPerInstance,
    });
  }

  view(): PlacementView {
    const mode = this.controller ? 'auto' : this.options.tuner ? 'tune' : 'manual';
    return {
      mode,
      entries: currentPlacement(this.engine),
      models: modelConfigurations(this.engine, this.options.tuner),
      devices: this.capacities(),
      controller: this.controller?.snapshot() ?? null,
    };
  }

  /** Applies a placement for the models it names (the others stay), or refuses it with every reason. */
  async set(entries: PlacementEntry[]): Promise<PlacementView> {
    const named = new Set(entries.map((e) => e.model));
    const whole = [...currentPlacement(this.engine).filter((e) => !named.has(e.model)), ...entries];
    // Names first: the capacity check needs every entry's model and device to exist.
    let problems = placementEntryProblems(this.engine, entries);
    if (!problems.length)
      problems = placementFitProblems(whole, this.capacities(), (m, d) => this.memoryPerInstance(m, d));
    if (problems.length) throw placementRefused(problems);
    await applyPlacement(this.engine, entries);
    return this.view();
  }

  /** Auto mode: the controller watches the load and re-places models as it shifts. */
  startAuto(): void {
    if (!this.options.profiles)
      throw errors.invalidArg('auto placement needs profiles (tenancy profile measures them)');
    this.controller = new Controller(
      {
        models: () => [...new Set(this.engine.loaded().map((m) => m.name))],
        arrivals: () => this.engine.arrivals(),
        queued: () => this.engine.queued(),
        current: () => currentPlacement(this.engine),
        apply: (entries) => applyPlacement(this.engine, entries),
      },
      {
        ...this.options.controller,
        profiles: this.options.profiles,
        devices: () => this.capacities(),
        // The whole CPU and its core sets share cores: plan on each choice of disjoint ones.
        planner: (profiles, demand) =>
          planOnDevices(profiles, this.engine.devices, demand, { memoryBudgetBytes: this.cpuMemoryBudget() }),
      },
    );
    this.controller.start();
  }

  /** The live tuner, when this server tunes. */
  get tuner(): LiveTuner | undefined {
    return this.options.tuner;
  }

  stop(): void {
    this.controller?.stop();
    void this.options.tuner?.stop();
  }
}
