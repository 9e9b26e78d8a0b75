/**
 * The engine's placement front: what GET/PUT /v2/placement and `serve --placement auto` use.
 * It knows the devices' capacities, where memory per instance comes from (a stored profile, or
 * an estimate from the model file's size), refuses a placement that does not fit with the
 * reason, and runs the controller in auto mode.
 */
import { errors } from '../errors.js';
import { Controller, placementFitProblems, planOnDevices, type ControllerOptions, type ControllerStatus, type DeviceCapacity, type ModelProfile, type PlacementEntry } from '../placement/index.js';
import type { Engine } from './engine.js';
import { estimateInstanceBytes } from './admission.js';
import { applyPlacement, currentPlacement, placementEntryProblems, placementRefused } from './placement.js';

export interface PlacementManagerOptions {
  /** Stored profiles (measured or simulated); memory per instance and the planner use them. */
  profiles?: () => ModelProfile[];
  /** Share of each device's memory that instances may use. Default 0.9. */
  memoryShare?: number;
  /** Controller settings for auto mode. */
  controller?: Omit<ControllerOptions, 'profiles' | 'devices'>;
}

export interface PlacementView {
  mode: 'manual' | 'auto';
  entries: PlacementEntry[];
  /** Per model: who chose its instances and batching, and why (the engine's defaults where the config is silent). */
  models: ModelConfiguration[];
  devices: (DeviceCapacity & { description: string })[];
  controller: ControllerStatus | null;
}


/** Who chose a model's instances and batching. */
export interface ModelConfiguration {
  model: string;
  /** "config": as its config states; "defaults": the engine chose what the config leaves out (see reasons). */
  source: 'config' | 'defaults';
  instances: string | null;
  batching: string | null;
  reasons: string[];
}

function modelConfigurations(engine: Engine): ModelConfiguration[] {
  const out = new Map<string, ModelConfiguration>();
  for (const m of engine.loaded()) {
    if (out.has(m.name)) continue;
    const d = m.defaults;
    out.set(m.name, { model: m.name, source: d ? 'defaults' : 'config', instances: d?.instances ?? null, batching: d?.batching ?? null, reasons: d?.reasons ?? [] });
  }
  return [...out.values()];
}

export class PlacementManager {
  private controller: Controller | null = null;

  constructor(private readonly engine: Engine, private readonly options: PlacementManagerOptions = {}) {}

  capacities(): (DeviceCapacity & { description: string })[] {
    const share = this.options.memoryShare ?? 0.9;
    return this.engine.devices.filter((d) => d.available).map((d) => ({
      device: d.id,
      cores: d.kind === 'cpu' ? (d.id === 'cpu' ? this.engine.cores : d.cores?.length ?? 0) : 0,
      memoryBytes: d.kind === 'gpu' && !d.memoryBytes ? Infinity : Math.round(d.memoryBytes * (d.simulated ? 1 : share)),
      maxInstances: d.kind === 'sim' ? d.maxConcurrent ?? 1 : Infinity,
      simulated: d.simulated,
      description: d.description,
    }));
  }

  private cpuMemoryBudget(): number {
    return Math.round((this.engine.devices.find((d) => d.id === 'cpu')?.memoryBytes ?? 0) * (this.options.memoryShare ?? 0.9));
  }

  memoryPerInstance(model: string, device: string): number {
    const p = this.options.profiles?.().find((x) => x.model === model && x.device === device)?.points[0];
    if (p?.memoryPerInstance) return p.memoryPerInstance;
    return estimateInstanceBytes(this.engine.model(model).file);
  }

  view(): PlacementView {
    return { mode: this.controller ? 'auto' : 'manual', entries: currentPlacement(this.engine), models: modelConfigurations(this.engine), devices: this.capacities(), controller: this.controller?.snapshot() ?? null };
  }

  /** Applies a placement for the models it names (the others stay), or refuses it with every reason. */
  async set(entries: PlacementEntry[]): Promise<PlacementView> {
    const named = new Set(entries.map((e) => e.model));
    const whole = [...currentPlacement(this.engine).filter((e) => !named.has(e.model)), ...entries];
    // Names first: the capacity check needs every entry's model and device to exist.
    let problems = placementEntryProblems(this.engine, entries);
    if (!problems.length) problems = placementFitProblems(whole, this.capacities(), (m, d) => this.memoryPerInstance(m, d));
    if (problems.length) throw placementRefused(problems);
    await applyPlacement(this.engine, entries);
    return this.view();
  }

  /** Auto mode: the controller watches the load and re-places models as it shifts. */
  startAuto(): void {
    if (!this.options.profiles) throw errors.invalidArg('auto placement needs profiles (tenancy profile measures them)');
    this.controller = new Controller(
      {
        models: () => [...new Set(this.engine.loaded().map((m) => m.name))],
        arrivals: () => this.engine.arrivals(),
        queued: () => this.engine.queued(),
        current: () => currentPlacement(this.engine),
        apply: (entries) => applyPlacement(this.engine, entries),
      },
      {
        ...this.options.controller, profiles: this.options.profiles, devices: () => this.capacities(),
        // The whole CPU and its core sets share cores: plan on each choice of disjoint ones.
        planner: (profiles, demand) => planOnDevices(profiles, this.engine.devices, demand, { memoryBudgetBytes: this.cpuMemoryBudget() }),
      },
    );
    this.controller.start();
  }

  stop(): void {
    this.controller?.stop();
  }
}
