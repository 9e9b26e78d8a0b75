/**
 * The `dmp` report's plots: per placement, each model's throughput over its single-tenant
 * baseline and the normalized total (grouped bars, one shared axis: ratios are comparable where
 * raw inferences/s are not), and the raw inferences/s per model (one panel each). Placements
 * that involve a simulated device carry "(simulated)" in their name on the axis.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ExperimentResult } from './experiment.js';
import type { Plot } from './plot.js';

const BASELINE_COLOR = '#d62728';

export function dmpPlots(result: ExperimentResult): Plot[] {
  const alone = new Map(result.rows.filter((r) => r.phase === 'alone').map((r) => [r.model, r.throughput]));
  const placed = result.rows.filter((r) => r.phase !== 'alone' && alone.has(r.model));
  if (placed.length === 0) return [];
  const order = [...new Set(placed.map((r) => r.phase))];
  const ratios: object[] = placed.map((r) => ({
    placement: r.phase,
    series: r.model,
    ratio: r.throughput / alone.get(r.model)!,
  }));
  for (const phase of order) {
    const total = placed.filter((r) => r.phase === phase).reduce((s, r) => s + r.throughput / alone.get(r.model)!, 0);
    ratios.push({ placement: phase, series: 'all models (normalized sum)', ratio: total });
  }
  const speedup = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Throughput in each placement / the model alone (dashed: 1 = single-tenant baseline)',
    width: { step: 18 },
    height: 260,
    data: { values: ratios },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: {
            field: 'placement',
            type: 'nominal',
            sort: order,
            title: null,
            axis: { labelAngle: -20, labelLimit: 260 },
          },
          xOffset: { field: 'series', type: 'nominal' },
          y: { field: 'ratio', type: 'quantitative', title: 'x the model alone', scale: { zero: true } },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      {
        data: { values: [{ one: 1 }] },
        mark: { type: 'rule', strokeDash: [5, 4], color: BASELINE_COLOR },
        encoding: { y: { field: 'one', type: 'quantitative' } },
      },
    ],
    config: { font: 'sans-serif', legend: { labelLimit: 260, orient: 'right' } },
  } as TopLevelSpec;
  const phases = ['alone', ...order];
  const throughput = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Inferences/s of each model in each placement',
    data: {
      values: result.rows
        .filter((r) => alone.has(r.model))
        .map((r) => ({ model: r.model, placement: r.phase, throughput: r.throughput })),
    },
    facet: { field: 'model', type: 'nominal', title: null, header: { labelFontWeight: 'bold' } },
    columns: 3,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 230,
      height: 160,
      mark: { type: 'bar' },
      encoding: {
        x: {
          field: 'placement',
          type: 'nominal',
          sort: phases,
          title: null,
          axis: { labelAngle: -30, labelLimit: 320 },
        },
        y: { field: 'throughput', type: 'quantitative', title: 'inferences/s' },
        color: { field: 'placement', type: 'nominal', sort: phases, legend: null },
      },
    },
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
  return [
    { file: 'speedup.svg', title: 'Throughput against the single-tenant baseline', spec: speedup },
    { file: 'throughput.svg', title: 'Throughput per model', spec: throughput },
  ];
}
