/**
 * The engine's side of placement: read where each model's instances run, and move them. A new
 * placement is applied per model as a change of its instance groups, in place: new instances
 * start and warm and join the pool before the old ones drain and stop (Model.applyInstanceGroups).
 */
import { errors } from '../errors.js';
import { preview } from '../preview.js';
import type { PlacementEntry } from '../placement/index.js';
import type { Engine } from './engine.js';
import type { ModelView } from './model.js';

/** Where each loaded model's instances run now (newest version of each model). */
export function currentPlacement(engine: Engine): PlacementEntry[] {
  const entries: PlacementEntry[] = [];
  for (const m of newestVersions(engine)) {
    const groups = new Map<string, PlacementEntry>();
    for (const i of m.instances) {
      const key = `${i.device}:${i.threads}`;
      const e = groups.get(key) ?? {
        model: m.name,
        device: i.device,
        instances: 0,
        threads: i.threads,
        batching: batchingOf(m),
        expectedThroughput: 0,
      };
      e.instances++;
      groups.set(key, e);
    }
    entries.push(...groups.values());
  }
  return entries;
}

/** Checks that every entry names a loaded model and a usable device; lists every problem at once. */
export function placementEntryProblems(engine: Engine, entries: PlacementEntry[]): string[] {
  const problems: string[] = [];
  const loaded = new Set(newestVersions(engine).map((m) => m.name));
  entries.forEach((e, i) => {
    if (!loaded.has(e.model))
      problems.push(`entries[${i}]: model "${e.model}" is not loaded (loaded: ${[...loaded].join(', ')})`);
    const d = engine.devices.find((x) => x.id === e.device);
    if (!d)
      problems.push(
        `entries[${i}]: unknown device "${e.device}" (devices: ${engine.devices.map((x) => x.id).join(', ')})`,
      );
    else if (!d.available) problems.push(`entries[${i}]: device ${e.device} is not available (${d.reason})`);
    if (!Number.isInteger(e.instances) || e.instances < 1)
      problems.push(`entries[${i}]: instances must be an integer >= 1, got ${preview(e.instances)}`);
    if (!Number.isInteger(e.threads) || e.threads < 1)
      problems.push(`entries[${i}]: threads must be an integer >= 1, got ${preview(e.threads)}`);
  });
  return problems;
}

/** The refusal of a placement: its first problems, and how many more (a request may hold thousands of entries). */
export function placementRefused(problems: readonly string[]): Error {
  const shown = problems.slice(0, 10).join('; ');
  return errors.invalidArg(
    `placement refused: ${shown}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`,
  );
}

/** Moves each model named in `entries` to its new instance groups; models not named stay as they are. */
export async function applyPlacement(engine: Engine, entries: PlacementEntry[]): Promise<void> {
  const problems = placementEntryProblems(engine, entries);
  if (problems.length) throw placementRefused(problems);
  const byModel = new Map<string, PlacementEntry[]>();
  for (const e of entries) byModel.set(e.model, [...(byModel.get(e.model) ?? []), e]);
  for (const [model, list] of byModel) {
    const m = engine.model(model);
    const instance_group = list.map((e) => ({
      count: e.instances,
      kind: e.device.startsWith('gpu:') ? 'KIND_GPU' : 'KIND_CPU',
      device: e.device,
      threads: e.threads,
      host: m.config.instance_group.find((g) => g.device === e.device)?.host ?? 'thread',
    }));
    // Instance groups, batch sizes and queue delay change in place; any other change reloads the
    // model (new instances start before the old ones drain, so no request is lost either way).
    await engine.reconfigure(model, { ...withBatching(m.config, list[0].batching), instance_group });
  }
}

function newestVersions(engine: Engine): ModelView[] {
  const seen = new Set<string>();
  return engine.loaded().filter((m) => {
    if (seen.has(m.name)) return false;
    seen.add(m.name);
    return true;
  });
}

/** A placement's batching is the batch the dynamic batcher forms: its largest preferred size, else max_batch_size. */
function batchingOf(m: ModelView): PlacementEntry['batching'] {
  const db = m.config.dynamic_batching;
  return db
    ? {
        maxBatchSize: db.preferred_batch_size.at(-1) ?? m.config.max_batch_size,
        delayUs: db.max_queue_delay_microseconds,
      }
    : null;
}

/**
 * The model's config with the entry's batching (as preferred batch size and queue delay); unchanged
 * when the entry has none.
 */
function withBatching(config: ModelView['config'], batching: PlacementEntry['batching']): ModelView['config'] {
  if (!batching || config.max_batch_size === 0) return config;
  const db = config.dynamic_batching;
  const same =
    db &&
    batchingOf({ config } as ModelView)?.maxBatchSize === batching.maxBatchSize &&
    db.max_queue_delay_microseconds === batching.delayUs;
  if (same) return config;
  const preferred = Math.min(batching.maxBatchSize, config.max_batch_size);
  return {
    ...config,
    dynamic_batching: {
      ...(db ?? {}),
      preferred_batch_size: [preferred],
      max_queue_delay_microseconds: batching.delayUs,
    } as NonNullable<ModelView['config']['dynamic_batching']>,
  };
}
