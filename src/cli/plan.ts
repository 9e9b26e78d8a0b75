/**
 * `tenancy plan`: a placement from stored profiles (measuring what is missing), the devices'
 * capacities and the demand, printed with the planner's reasons. Read-only: it changes no
 * repository and no server; `--json` prints the plan in the shape PUT /v2/placement takes
 * ({entries: [...]}, plus objective, method and reasons).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { errors, isTenancyError } from '../errors.js';
import { planOnDevices, type Demand, type ModelProfile, type Plan } from '../placement/index.js';
import { table } from './describe.js';
import { addProfilingOptions, gatherProfiles, integer, list, type ProfilingOptions } from './profile.js';
import { usageError, USAGE_EXIT_CODE } from './arguments.js';

interface PlanCommandOptions extends ProfilingOptions {
  weights?: Record<string, number>;
  targetRates?: Record<string, number>;
  p99?: Record<string, number>;
  demand?: string;
  memoryBudgetMb?: number;
  method: 'exact' | 'greedy' | 'auto';
  balance?: boolean;
  json?: boolean;
}

/**
 * Weights divided by each model's best profiled throughput: the objective becomes the sum of each
 * model's throughput as a share of its best, so a fast model does not win by raw inferences/s alone.
 */
export function balanceWeights(demand: Demand[], profiles: ModelProfile[]): Demand[] {
  return demand.map((d) => {
    const best = Math.max(
      0,
      ...profiles.filter((p) => p.model === d.model).flatMap((p) => p.points.map((x) => x.throughput)),
    );
    return best > 0 ? { ...d, weight: (d.weight ?? 1) / best } : d;
  });
}

/** "a=2,b=1" → {a: 2, b: 1}; every value a number > 0. */
export function parsePairs(what: string) {
  return (value: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const pair of list(value)) {
      const m = /^([^=]+)=(.+)$/.exec(pair);
      const n = m ? Number(m[2]) : NaN;
      if (!m || !(n > 0))
        throw usageError(`${what}: expected MODEL=NUMBER (> 0), comma-separated, got ${JSON.stringify(pair)}`);
      out[m[1].trim()] = n;
    }
    return out;
  };
}

/** The demand file: a list of {model, weight?, targetRate?, p99LimitMs?}, or {MODEL: {weight?, ...}}. */
export async function readDemandFile(file: string): Promise<Demand[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw errors.invalidArg(`demand file ${file} cannot be read: ${(err as Error).message}`);
  }
  const list = Array.isArray(raw)
    ? raw
    : raw && typeof raw === 'object'
      ? Object.entries(raw).map(([model, d]) => ({ ...(d as object), model }))
      : null;
  if (!list)
    throw errors.invalidConfig(
      file,
      '(root)',
      raw,
      'must be a list of {model, weight?, targetRate?, p99LimitMs?} or an object by model name',
    );
  return list.map((d, i) => {
    const o = d as Record<string, unknown>;
    if (typeof o.model !== 'string') throw errors.invalidConfig(file, `[${i}].model`, o.model, 'must be a model name');
    for (const k of ['weight', 'targetRate', 'p99LimitMs']) {
      if (o[k] !== undefined && !(typeof o[k] === 'number' && (o[k] as number) > 0))
        throw errors.invalidConfig(file, `${o.model}.${k}`, o[k], 'must be a number > 0');
    }
    return {
      model: o.model,
      weight: o.weight as number | undefined,
      targetRate: o.targetRate as number | undefined,
      p99LimitMs: o.p99LimitMs as number | undefined,
    };
  });
}

/** Demand for every model: the file's, then the flags' values on top; weight 1 where none is given. */
export function buildDemand(
  models: string[],
  fromFile: Demand[],
  flags: { weights?: Record<string, number>; targetRates?: Record<string, number>; p99?: Record<string, number> },
): Demand[] {
  const named = [
    ...fromFile.map((d) => d.model),
    ...Object.keys(flags.weights ?? {}),
    ...Object.keys(flags.targetRates ?? {}),
    ...Object.keys(flags.p99 ?? {}),
  ];
  const unknown = [...new Set(named.filter((m) => !models.includes(m)))];
  if (unknown.length)
    throw errors.invalidArg(
      `demand names unknown model${unknown.length > 1 ? 's' : ''} ` +
        `${unknown.map((m) => JSON.stringify(m)).join(', ')} (models: ${models.join(', ')})`,
    );
  return models.map((model) => {
    const d: Demand = { ...(fromFile.find((x) => x.model === model) ?? { model }) };
    if (flags.weights?.[model] !== undefined) d.weight = flags.weights[model];
    if (flags.targetRates?.[model] !== undefined) d.targetRate = flags.targetRates[model];
    if (flags.p99?.[model] !== undefined) d.p99LimitMs = flags.p99[model];
    return Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as unknown as Demand;
  });
}

export function formatPlan(p: Plan, simulated: Set<string>): string {
  const rows = [['MODEL', 'DEVICE', 'INSTANCES', 'THREADS', 'BATCHING', 'EXPECTED INF/S']];
  for (const e of p.entries) {
    rows.push([
      e.model,
      e.device + (simulated.has(e.device) ? ' (simulated)' : ''),
      String(e.instances),
      String(e.threads),
      e.batching ? `up to ${e.batching.maxBatchSize}` : 'none',
      e.expectedThroughput.toFixed(1),
    ]);
  }
  return (
    `${table(rows)}\n\nwhy (${p.method} search, objective ${p.objective.toFixed(1)}):\n` +
    `${p.reasons.map((r) => `  - ${r}`).join('\n')}`
  );
}

/** `write` takes the command's output (stdout by default; tests pass their own). */
export function registerPlanCommand(
  program: Command,
  write: (s: string) => void = (s) => void process.stdout.write(s),
  note: (line: string) => void = (l) => void process.stderr.write(`${l}\n`),
): void {
  addProfilingOptions(
    program
      .command('plan')
      .description(
        'compute a placement (instances per model per device, threads, batching) ' +
          'from profiles, capacities and demand; read-only',
      ),
  )
    .option(
      '--weights <a=2,b=1>',
      "relative importance of each model's inferences (default 1)",
      parsePairs('--weights'),
    )
    .option('--target-rates <a=100>', 'inferences/s beyond which a model gains nothing', parsePairs('--target-rates'))
    .option('--p99 <a=50>', 'p99 latency limit per model, ms', parsePairs('--p99'))
    .option('--demand <file>', 'demand as JSON: [{model, weight?, targetRate?, p99LimitMs?}] or {MODEL: {...}}')
    .option(
      '--memory-budget-mb <mb>',
      "memory the instances on the CPU (and GPU) may use (default: the device's memory)",
      integer(1),
    )
    .addOption(
      new Option('--method <m>', 'search: exact, greedy, or auto (exact when small)')
        .choices(['exact', 'greedy', 'auto'])
        .default('auto'),
    )
    .option(
      '--balance',
      "weigh each model by 1 / its best profiled throughput, so each model's share of its best counts, " +
        'not raw inferences/s',
    )
    .option('--json', 'print the plan as JSON (the shape PUT /v2/placement takes)')
    .action(async (opts: PlanCommandOptions, cmd: Command) => {
      try {
        const { devices, profiles } = await gatherProfiles(opts, note);
        const models = [...new Set(profiles.map((p) => p.model))];
        const asked = buildDemand(models, opts.demand ? await readDemandFile(opts.demand) : [], opts);
        const demand = opts.balance ? balanceWeights(asked, profiles) : asked;
        const p = planOnDevices(profiles, devices, demand, {
          method: opts.method,
          memoryBudgetBytes: opts.memoryBudgetMb ? opts.memoryBudgetMb * 2 ** 20 : undefined,
        });
        if (opts.json) return write(`${JSON.stringify(p, null, 2)}\n`);
        write(`${formatPlan(p, new Set(devices.filter((d) => d.simulated).map((d) => d.id)))}\n`);
      } catch (err) {
        if (isTenancyError(err, 'INVALID_ARG'))
          cmd.error(`error: ${err.message}`, { exitCode: USAGE_EXIT_CODE, code: 'tenancy.plan.usage' });
        throw err;
      }
    });
}
