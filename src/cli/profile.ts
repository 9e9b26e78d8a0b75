/**
 * `tenancy profile`: measures each model on each device (throughput and p99 per instances x
 * threads x batching, memory per instance) and stores the profiles, keyed by model file and
 * device, for `tenancy plan` and `serve --placement auto`. Stored profiles are reused until the
 * model file, the device or the runtime changes (or --force). Prints one table per model/device.
 */
import { type Command, Option } from 'commander';
import { ensureDefaultRepository, DEFAULT_REPOSITORY_DIR, textOrientationModelFile } from '../default-repository.js';
import { isTenancyError } from '../errors.js';
import { parseShape, usageError, USAGE_EXIT_CODE } from './arguments.js';
import { loadOrMeasureProfiles } from '../bench/index.js';
import { DEFAULT_PROFILE_DB, type ProfiledModel } from '../placement/index.js';
import { inventory, readDevicesFile, type Device } from '../runtime/index.js';
import { table } from './describe.js';

/** Options `profile` and `plan` share: where the models and devices are, and how to measure. */
export interface ProfilingOptions {
  repo?: string;
  devices?: string;
  models?: string[];
  windowMs?: number;
  warmupMs?: number;
  batchSizes?: number[];
  force?: boolean;
  db: string | false;
  probe: boolean;
  /** Sizes of inputs' dynamic dimensions, per input name. */
  shape: Record<string, number[]>;
}

export function addProfilingOptions(cmd: Command): Command {
  return cmd
    .option('--repo <dir>', 'model repository (default: the built-in default repository)')
    .option('--devices <file>', 'devices file: core sets and simulated accelerators (JSON)')
    .option('--models <a,b>', 'models, comma-separated (default: all in the repository)', list)
    .option('--window-ms <ms>', 'measurement window of each configuration (default 1000)', integer(10))
    .option('--warmup-ms <ms>', 'load before the windows of each configuration (default 500)', integer(0))
    .option('--batch-sizes <list>', 'dynamic batching sizes to profile besides none (default 4)', (v) =>
      list(v).map(integer(1)),
    )
    .addOption(
      new Option(
        '--shape <name:dims>',
        "size of an input's dynamic dimensions without the batch dimension, e.g. x:3,48,192 (repeatable)",
      )
        .argParser(parseShape)
        .default({}, 'none'),
    )
    .option('--force', 'measure again even where a stored profile is valid')
    .option('--db <file>', 'profile database', DEFAULT_PROFILE_DB)
    .option('--no-db', 'measure everything, store nothing')
    .option('--no-probe', 'do not probe the GPU');
}

export interface Profiled {
  devices: Device[];
  profiles: ProfiledModel[];
}

/** Inventory, then stored or newly measured profiles; progress lines go to stderr. */
export async function gatherProfiles(o: ProfilingOptions, note: (line: string) => void): Promise<Profiled> {
  const repo = o.repo ?? (await ensureDefaultRepository(DEFAULT_REPOSITORY_DIR, note));
  const file = o.devices ? await readDevicesFile(o.devices) : undefined;
  const devices = await inventory({ file, probeGpu: o.probe, probeModel: textOrientationModelFile() });
  const profiles = await loadOrMeasureProfiles(repo, devices, o.models, {
    windowMs: o.windowMs,
    warmupMs: o.warmupMs,
    batchSizes: o.batchSizes,
    force: o.force,
    db: o.db === false ? null : o.db,
    onProgress: note,
    shapes: o.shape,
  });
  return { devices, profiles };
}

export function profileTable(p: ProfiledModel): string {
  const source =
    p.source === 'simulated'
      ? 'SIMULATED (computed from the latency table)'
      : p.source === 'stored'
        ? `stored, measured ${p.measuredAt}`
        : `measured now`;
  const rows = [['INSTANCES', 'THREADS', 'BATCHING', 'INF/S', 'P99 MS', 'MB/INSTANCE']];
  for (const x of [...p.points].sort((a, b) => b.throughput - a.throughput)) {
    rows.push([
      String(x.instances),
      String(x.threads),
      x.batching ? `up to ${x.batching.maxBatchSize}` : 'none',
      x.throughput.toFixed(1),
      x.p99Ms.toFixed(1),
      (x.memoryPerInstance / 2 ** 20).toFixed(1),
    ]);
  }
  return `${p.model} on ${p.device}${p.simulated ? ' (simulated)' : ''}: ${source}\n${table(rows)}`;
}

/** `write` takes the command's output (stdout by default; tests pass their own). */
export function registerProfileCommand(
  program: Command,
  write: (s: string) => void = (s) => void process.stdout.write(s),
  note: (line: string) => void = (l) => void process.stderr.write(`${l}\n`),
): void {
  addProfilingOptions(
    program
      .command('profile')
      .description('measure each model on each device (instances x threads x batching) and store the profiles'),
  )
    .option('--json', 'print the profiles as JSON')
    .action(async (opts: ProfilingOptions & { json?: boolean }, cmd: Command) => {
      try {
        const { profiles } = await gatherProfiles(opts, note);
        if (opts.json) return write(`${JSON.stringify(profiles, null, 2)}\n`);
        write(`${profiles.map(profileTable).join('\n\n')}\n`);
      } catch (err) {
        if (isTenancyError(err, 'INVALID_ARG'))
          cmd.error(`error: ${err.message}`, { exitCode: USAGE_EXIT_CODE, code: 'tenancy.profile.usage' });
        throw err;
      }
    });
}

export function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min)
      throw usageError(`expected an integer >= ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}
