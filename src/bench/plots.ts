/**
 * The report's plots: vega-lite specs built from the result rows, compiled to vega and rendered to
 * SVG in Node (no browser, no canvas). One small chart per model (models differ in throughput by
 * orders of magnitude, so they do not share a y axis), and one chart of speedups that they share.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ExperimentResult, ResultRow } from './experiment.js';
import { dmpPlots } from './plots-dmp.js';
import type { Plot } from './plot.js';
import { PLAIN_PHASE, plainFigure, plainRatios } from './plain-ratios.js';

/** One row per model at its plain-session median, for the throughput plot's rule. */
function plainMedians(rows: readonly ResultRow[]): { model: string; throughput: number }[] {
  const models = [...new Set(rows.filter((r) => r.phase === PLAIN_PHASE).map((r) => r.model))];
  return models.map((model) => ({ model, throughput: plainFigure(rows, model)!.median }));
}

const BASELINE_COLOR = '#d62728';
const CELL = { width: 230, height: 160 };

interface Axis {
  field: 'level' | 'batchSize';
  title: string;
  scale?: Record<string, unknown>;
}

function xAxis(experiment: string): Axis {
  if (experiment === 'batch') return { field: 'batchSize', title: 'batch size', scale: { type: 'log', base: 2 } };
  if (experiment === 'cme-mix') return { field: 'level', title: 'instances of each model' };
  return { field: 'level', title: 'concurrency level (instances)' };
}

const x = (a: Axis) => ({
  field: a.field,
  type: 'quantitative',
  title: a.title,
  axis: { tickMinStep: 1, format: 'd' },
  ...(a.scale ? { scale: a.scale } : {}),
});

/** Rows plotted against the x axis: everything but the baselines (single-tenant and plain session). */
const sweepRows = (rows: readonly ResultRow[]) => rows.filter((r) => r.phase !== 'baseline' && r.phase !== PLAIN_PHASE);
const PLAIN_COLOR = '#7f7f7f';

function facetOf(values: object[], layer: object[], title: string, extra: object = {}): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values },
    facet: { field: 'model', type: 'nominal', title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
    columns: 3,
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: { ...CELL, layer },
    config: { font: 'sans-serif', legend: { labelLimit: 260 } },
    ...extra,
  } as TopLevelSpec;
}

function throughputPlot(result: ExperimentResult, a: Axis): Plot {
  const best = new Map<string, ResultRow>();
  for (const r of sweepRows(result.rows))
    if (!best.has(r.model) || r.throughput > best.get(r.model)!.throughput) best.set(r.model, r);
  const values = [
    ...sweepRows(result.rows).map((r) => ({ ...r, kind: best.get(r.model) === r ? 'best' : 'sweep' })),
    ...result.rows.filter((r) => r.phase === 'baseline').map((r) => ({ ...r, kind: 'baseline' })),
    ...plainMedians(result.rows).map((r) => ({ ...r, kind: 'plain' })),
  ];
  const y = { field: 'throughput', type: 'quantitative', title: 'inferences/s', scale: { zero: true } };
  const layer = [
    {
      transform: [{ filter: "datum.kind !== 'baseline' && datum.kind !== 'plain'" }],
      mark: { type: 'line', point: true },
      encoding: { x: x(a), y },
    },
    {
      transform: [{ filter: "datum.kind === 'plain'" }],
      mark: { type: 'rule', strokeDash: [2, 3], color: PLAIN_COLOR, strokeWidth: 1.5 },
      encoding: { y },
    },
    {
      transform: [{ filter: "datum.kind === 'plain'" }],
      mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 3, dy: -2, color: PLAIN_COLOR, fontSize: 10 },
      encoding: { y, x: { value: 0 }, text: { value: 'plain session' } },
    },
    {
      transform: [{ filter: "datum.kind === 'best'" }],
      mark: { type: 'point', size: 140, color: '#2ca02c', strokeWidth: 2 },
      encoding: { x: x(a), y },
    },
    {
      transform: [{ filter: "datum.kind === 'baseline'" }],
      mark: { type: 'rule', strokeDash: [5, 4], color: BASELINE_COLOR, strokeWidth: 1.5 },
      encoding: { y },
    },
    {
      transform: [{ filter: "datum.kind === 'baseline'" }],
      mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -3, dy: -2, color: BASELINE_COLOR, fontSize: 10 },
      encoding: { y, x: { value: CELL.width }, text: { value: 'baseline' } },
    },
  ];
  const what =
    result.experiment === 'batch'
      ? 'batch size (dotted: plain session; green: best)'
      : 'concurrency level (dashed: single-tenant baseline; dotted: plain session; green: best)';
  return { file: 'throughput.svg', title: 'Throughput', spec: facetOf(values, layer, `Throughput vs ${what}`) };
}

/**
 * Throughput over the plain session (the slices around each setting) when it was measured, else
 * over the single-tenant baseline; all models on one chart; for a mix also the normalized total.
 */
function speedupPlot(result: ExperimentResult, a: Axis): Plot | null {
  const ratios = plainRatios(result.rows);
  const overPlain = ratios.some((r) => Number.isFinite(r));
  const base = new Map<string, number>();
  for (const r of result.rows) {
    if (result.experiment === 'batch' ? r.batchSize === 1 && r.phase === 'batch' : r.phase === 'baseline')
      base.set(r.model, r.throughput);
  }
  const ratioOf = (r: ResultRow) =>
    overPlain ? ratios[result.rows.indexOf(r)] : r.throughput / (base.get(r.model) ?? NaN);
  const values: object[] = sweepRows(result.rows)
    .filter((r) => Number.isFinite(ratioOf(r)))
    .map((r) => ({ model: r.model, [a.field]: r[a.field], speedup: ratioOf(r) }));
  if (values.length === 0) return null;
  if (result.experiment === 'cme-mix') {
    const levels = [...new Set(sweepRows(result.rows).map((r) => r.level))];
    for (const level of levels) {
      const total = sweepRows(result.rows)
        .filter((r) => r.level === level)
        .reduce((s, r) => s + ratioOf(r), 0);
      values.push({ model: 'all models (normalized sum)', level, speedup: total });
    }
  }
  const what = overPlain
    ? 'throughput / plain onnxruntime-node session' +
      `${result.experiment === 'cme-mix' ? " (total: sum of the models' ratios)" : ''}`
    : result.experiment === 'batch'
      ? 'throughput / throughput at batch 1'
      : result.experiment === 'cme-mix'
        ? 'throughput in the mix / alone'
        : 'throughput / single-tenant baseline';
  return {
    file: 'speedup.svg',
    title: 'Speedup',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      title: `Speedup: ${what}`,
      width: 420,
      height: 260,
      data: { values },
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: x(a),
            y: { field: 'speedup', type: 'quantitative', title: 'speedup (x)', scale: { zero: true } },
            color: { field: 'model', type: 'nominal', title: 'model' },
          },
        },
        {
          data: { values: [{ one: 1 }] },
          mark: { type: 'rule', strokeDash: [5, 4], color: BASELINE_COLOR },
          encoding: { y: { field: 'one', type: 'quantitative' } },
        },
      ],
      config: { font: 'sans-serif', legend: { labelLimit: 260 } },
    } as TopLevelSpec,
  };
}

function latencyPlot(result: ExperimentResult, a: Axis): Plot {
  const values = sweepRows(result.rows).flatMap((r) =>
    (['p50', 'p90', 'p95', 'p99'] as const).map((p) => ({
      model: r.model,
      [a.field]: r[a.field],
      percentile: p,
      ms: r[`latency${p.toUpperCase()}Ms` as 'latencyP50Ms'],
    })),
  );
  const layer = [
    {
      mark: { type: 'line', point: { size: 20 } },
      encoding: {
        x: x(a),
        y: { field: 'ms', type: 'quantitative', title: 'latency (ms)', scale: { zero: true } },
        color: { field: 'percentile', type: 'nominal', sort: ['p50', 'p90', 'p95', 'p99'] },
      },
    },
  ];
  return {
    file: 'latency.svg',
    title: 'Latency percentiles',
    spec: facetOf(values, layer, 'Latency percentiles (client side)'),
  };
}

/** CPU and memory of each setting; in a mix every model shares them, so they are shown once. */
function resourcePlots(result: ExperimentResult, a: Axis): Plot[] {
  const seen = new Set<string>();
  const rows = sweepRows(result.rows)
    .map((r) => (result.experiment === 'cme-mix' ? { ...r, model: 'all models' } : r))
    .filter((r) => {
      const k = `${r.model}/${r[a.field]}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  const cpu = rows.flatMap((r) => [
    { model: r.model, [a.field]: r[a.field], series: 'this process', pct: r.cpuProcessPct },
    { model: r.model, [a.field]: r[a.field], series: 'whole machine', pct: r.cpuSystemPct },
  ]);
  const mem = rows
    .flatMap((r) => [
      { model: r.model, [a.field]: r[a.field], series: 'loaded, idle', mb: r.loadedBytes / 2 ** 20 },
      { model: r.model, [a.field]: r[a.field], series: 'peak, serving', mb: r.peakBytes / 2 ** 20 },
    ])
    .filter((v) => Number.isFinite(v.mb));
  const plots: Plot[] = [
    {
      file: 'cpu.svg',
      title: 'CPU use',
      spec: facetOf(
        cpu,
        [
          {
            mark: { type: 'line', point: { size: 20 } },
            encoding: {
              x: x(a),
              y: { field: 'pct', type: 'quantitative', title: 'CPU (% of all cores)', scale: { domain: [0, 100] } },
              color: { field: 'series', type: 'nominal', title: null },
            },
          },
        ],
        'CPU use',
        { resolve: { scale: { x: 'independent', y: 'shared' } } },
      ),
    },
  ];
  if (mem.length) {
    plots.push({
      file: 'memory.svg',
      title: 'Memory',
      spec: facetOf(
        mem,
        [
          {
            mark: { type: 'line', point: { size: 20 } },
            encoding: {
              x: x(a),
              y: { field: 'mb', type: 'quantitative', title: 'resident memory (MiB)', scale: { zero: true } },
              color: { field: 'series', type: 'nominal', title: null },
            },
          },
        ],
        'Memory of the serving process',
      ),
    });
  }
  return plots;
}

export function plotsFor(result: ExperimentResult): Plot[] {
  // Placements are not levels on an axis: dmp has plots of its own shape.
  if (result.experiment === 'dmp') return dmpPlots(result);
  if (sweepRows(result.rows).length === 0) return [];
  const a = xAxis(result.experiment);
  return [
    throughputPlot(result, a),
    speedupPlot(result, a),
    latencyPlot(result, a),
    ...resourcePlots(result, a),
  ].filter((p): p is Plot => p !== null);
}

/** vega-lite → vega → SVG, in this process. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
