/**
 * `dmp`: dynamic model placement, the papers' comparison on this device. (a) Each model alone,
 * one instance, runtime defaults: the single-tenant baseline. Then every model at once, one
 * instance each, every instance kept busy by its own closed loop: (b) all on the CPU, the thread
 * budget split; (c) split over core sets (the devices file's, or the cores in two halves);
 * (d) the CPU plus simulated accelerators (a Coral EdgeTPU at its published figures unless the
 * devices file names others); (e) the CPU plus the GPU when there is one. Each model's throughput
 * in a placement is compared with the same model alone, and the total with time-sharing.
 * Rows that involve a simulated device say "(simulated)" in their phase and summary names.
 */
import { errors } from '../errors.js';
import { textOrientationModelFile } from '../default-repository.js';
import { probeGpu, type Device } from '../runtime/index.js';
import { measureBaseline } from './experiment-baseline.js';
import {
  assertMeasured,
  runSetting,
  settledLine,
  type Experiment,
  type ExperimentContext,
  type ResultRow,
  type SummaryRow,
} from './experiment.js';
import { EngineTarget } from './engine-target.js';
import { defaultEdgeTpu, dmpScenarios, halfCoreSets, type Placed, type Scenario } from './dmp-scenarios.js';
import type { Table } from './table.js';

export const ALL_INFERENCES = 'all models (inf/s)';
export const ALL_NORMALIZED = 'all models (normalized)';

/** The model's config with one instance on `p.device` with `p.threads` threads, spinning off (the engine's default). */
export function placedConfig(base: Record<string, unknown>, p: Placed): Record<string, unknown> {
  const config = structuredClone(base);
  const groups = Array.isArray(config.instance_group) ? (config.instance_group as Record<string, unknown>[]) : [];
  config.instance_group = [
    {
      count: 1,
      kind: p.device.startsWith('gpu:') ? 'KIND_GPU' : 'KIND_CPU',
      device: p.device,
      host: groups[0]?.host ?? 'thread',
      threads: p.threads,
    },
  ];
  const parameters = { ...((config.parameters as Record<string, unknown> | undefined) ?? {}) };
  delete parameters.intra_op_thread_count;
  delete parameters.enable_spinning;
  config.parameters = parameters;
  return config;
}

/**
 * The devices the experiment places on: the engine's, plus made-up core sets and a default EdgeTPU
 * where none are given.
 */
async function prepareDevices(target: EngineTarget, notes: string[]): Promise<Device[]> {
  const have = target.devices();
  if (have.filter((d) => d.kind === 'cpu' && d.id !== 'cpu').length < 2) {
    const halves = halfCoreSets(target.cores());
    target.addDevices(halves);
    notes.push(
      `No core sets were given (--devices): the ${target.cores()} cores were split in two halves, ` +
        `${halves.map((h) => `${h.id} = cores ${h.cores!.join(',')}`).join(', ')}.`,
    );
  }
  if (!have.some((d) => d.kind === 'sim')) {
    target.addDevices([defaultEdgeTpu()]);
    notes.push(
      'No simulated accelerator was given (--devices): sim:edgetpu is a simulated Coral EdgeTPU ' +
        'at its published MobileNet V2 latency (2.6 ms, one execution at a time).',
    );
  }
  if (!have.some((d) => d.kind === 'gpu')) target.addDevices([await probeGpu(textOrientationModelFile())]);
  return target.devices();
}

export const dmpExperiment: Experiment = {
  name: 'dmp',
  description:
    'dynamic model placement: each model alone; all on the CPU; split over core sets; ' +
    'CPU + simulated accelerator(s); CPU + GPU',
  async run(ctx) {
    if (!(ctx.target instanceof EngineTarget))
      throw errors.invalidArg(
        'dmp places instances on devices, which only the in-process engine can do; ' +
          `${ctx.target.description} cannot (drop --url)`,
      );
    const target = ctx.target;
    const notes: string[] = [];
    const devices = await prepareDevices(target, notes);

    const alone = new Map<string, ResultRow>();
    const bar = ctx.progress.sweep('alone (single-tenant baselines)', ctx.models.length);
    for (const m of ctx.models) alone.set(m, (await measureBaseline(ctx, m, bar, { plain: false })).baseline);
    bar.done('baselines measured');
    for (const r of alone.values()) r.phase = 'alone';
    const aloneRate = new Map([...alone].map(([m, r]) => [m, r.throughput]));

    const scenarios = dmpScenarios(ctx.models, aloneRate, devices, target.cores());
    const rows: ResultRow[] = [...alone.values()];
    const measured: { scenario: Scenario; rows: ResultRow[] }[] = [];
    for (const s of scenarios) {
      if ('absent' in s) {
        notes.push(`${s.label}: absent: ${s.absent}.`);
        measured.push({ scenario: s, rows: [] });
        continue;
      }
      const r = await runScenario(ctx, s);
      rows.push(...r);
      measured.push({ scenario: s, rows: r });
      notes.push(...tableChecks(s, r, devices));
    }
    notes.push(
      'Each placement: one instance of every model, all loaded together, each kept busy by its own closed loop; ' +
        '"vs alone" is the model\'s throughput there over its single-tenant baseline.',
      `"${ALL_INFERENCES}" is compared with time-sharing ` +
        `(the models served one at a time for equal time: sum of baselines / ${ctx.models.length}); ` +
        `"${ALL_NORMALIZED}" is the sum of the models' "vs alone" (time-sharing = 1).`,
      'Core sets: models go to sets heaviest first, each to the set with the least work per core ' +
        "(work = time of one inference alone); threads per instance = the set's cores / its models. " +
        'Instances on core sets run in processes pinned to their cores.',
      'A simulated device spends no CPU: its executions are timers of the latency in its table; ' +
        'its throughput should be what that table implies (checked above), and is not a measurement of real hardware.',
    );
    return {
      experiment: 'dmp',
      rows,
      summary: summarize(ctx.models, alone, measured),
      summaryTitle: 'Dynamic model placement: each model in each placement against the model alone',
      notes,
      tables: [
        {
          title: 'Placements compared (inferences/s, and x the single-tenant baseline)',
          file: 'dmp.csv',
          table: comparisonTable(ctx.models, alone, measured),
        },
      ],
    };
  },
};

/**
 * A simulated device should deliver at most what its table implies (max_concurrent x 1000 /
 * latency); a measured figure above that says the simulation ran fast, and the report says so.
 */
function tableChecks(s: Scenario & { placed: Placed[] }, rows: ResultRow[], devices: Device[]): string[] {
  return s.placed
    .filter((p) => p.simulated)
    .flatMap((p) => {
      const d = devices.find((x) => x.id === p.device);
      const latency = d?.latencyMs?.[p.model];
      const measured = rows.find((r) => r.model === p.model)?.throughput ?? NaN;
      if (!latency || !(measured > (1.02 * (1000 * (d?.maxConcurrent ?? 1))) / latency)) return [];
      return [
        `${p.model} on ${p.device} (simulated) measured ${measured.toFixed(1)} inf/s, ` +
          `above the ${((1000 * (d?.maxConcurrent ?? 1)) / latency).toFixed(1)} inf/s ` +
          `its table implies (${latency} ms): ` +
          'the simulated executions took less than the table says (a timer rounds the latency down).',
      ];
    });
}

async function runScenario(ctx: ExperimentContext, s: Scenario & { placed: Placed[] }): Promise<ResultRow[]> {
  const bar = ctx.progress.sweep(s.label, 1);
  const bases = await Promise.all(s.placed.map((p) => ctx.target.config(p.model)));
  for (const p of s.placed) await ctx.target.unload(p.model);
  try {
    bar.setting(s.placed.map((p) => `${p.model}@${p.device}`).join(', '));
    const outcome = await runSetting(
      ctx,
      s.label,
      s.placed.map((p, i) => ({ model: p.model, config: placedConfig(bases[i], p), level: 1 })),
      bar,
    );
    assertMeasured(outcome.measurement, s.label);
    bar.settled(settledLine(outcome.measurement));
    return outcome.rows.map((r) => {
      const p = s.placed.find((x) => x.model === r.model)!;
      return { ...r, setup: `${r.setup} on ${p.device}${p.simulated ? ' (simulated)' : ''}` };
    });
  } finally {
    for (const p of s.placed) await ctx.target.unload(p.model);
    bar.done(s.label);
  }
}

function summarize(
  models: string[],
  alone: Map<string, ResultRow>,
  measured: { scenario: Scenario; rows: ResultRow[] }[],
): SummaryRow[] {
  const row = (model: string, baseline: number, best: number, note: string): SummaryRow => ({
    model,
    baseline,
    best,
    bestLevel: 1,
    speedup: best / baseline,
    maxLevel: NaN,
    perInstanceMB: NaN,
    note,
  });
  const out: SummaryRow[] = models.map((m) =>
    row(`alone: ${m}`, alone.get(m)!.throughput, alone.get(m)!.throughput, alone.get(m)!.setup),
  );
  const timeShared = models.reduce((s, m) => s + alone.get(m)!.throughput, 0) / models.length;
  for (const { scenario: s, rows } of measured) {
    if ('absent' in s) {
      out.push({ ...row(`${s.label}: ${ALL_INFERENCES}`, timeShared, NaN, `absent: ${s.absent}`), bestLevel: NaN });
      continue;
    }
    for (const r of rows)
      out.push(row(`${s.label}: ${r.model}`, alone.get(r.model)!.throughput, r.throughput, r.setup));
    const total = rows.reduce((n, r) => n + r.throughput, 0);
    const norm = rows.reduce((n, r) => n + r.throughput / alone.get(r.model)!.throughput, 0);
    out.push(row(`${s.label}: ${ALL_INFERENCES}`, timeShared, total, 'against time-sharing'));
    out.push(row(`${s.label}: ${ALL_NORMALIZED}`, 1, norm, 'sum of vs alone'));
  }
  return out;
}

const fmt = (x: number, base: number) => (Number.isFinite(x) ? `${x.toFixed(1)} (${(x / base).toFixed(2)}x)` : '-');

/** One line per placement: each model's inferences/s (and x alone), the total, the normalized total. */
export function comparisonTable(
  models: string[],
  alone: Map<string, ResultRow>,
  measured: { scenario: Scenario; rows: ResultRow[] }[],
): Table {
  const base = (m: string) => alone.get(m)!.throughput;
  const timeShared = models.reduce((s, m) => s + base(m), 0) / models.length;
  const rows: string[][] = [
    [
      'each alone (single-tenant baseline)',
      ...models.map((m) => fmt(base(m), base(m))),
      `${timeShared.toFixed(1)} (time-shared)`,
      '1.00',
      'one at a time, runtime defaults',
    ],
  ];
  for (const { scenario: s, rows: r } of measured) {
    if ('absent' in s) {
      rows.push([s.label, ...models.map(() => '-'), '-', '-', `absent: ${s.absent}`]);
      continue;
    }
    const total = r.reduce((n, x) => n + x.throughput, 0);
    const norm = r.reduce((n, x) => n + x.throughput / base(x.model), 0);
    rows.push([
      s.label,
      ...models.map((m) => fmt(r.find((x) => x.model === m)?.throughput ?? NaN, base(m))),
      fmt(total, timeShared),
      norm.toFixed(2),
      s.placed
        .map(
          (p) =>
            `${p.model}@${p.device}${p.simulated ? ' (simulated)' : ''}` +
            `${p.device.startsWith('sim:') ? '' : ` x${p.threads}t`}`,
        )
        .join(', '),
    ]);
  }
  return {
    head: ['placement', ...models, ALL_INFERENCES, ALL_NORMALIZED, 'where'],
    numeric: [false, ...models.map(() => true), true, true, false],
    rows,
  };
}
