/**
 * The report's tables as text: CSV of every measured setting, and markdown for the summary and
 * the settings. Pure, so the HTML page and the terminal show the same figures.
 */
import type { ExperimentResult, ResultRow, SummaryRow } from './experiment.js';
import type { Table } from './table.js';
import type { Environment } from './environment.js';
import { plainRatios } from './plain-ratios.js';

const num = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : x === Infinity ? 'unbounded' : '-');
const mb = (b: number) => (Number.isFinite(b) ? (b / 2 ** 20).toFixed(0) : '-');

export const CSV_COLUMNS: (keyof ResultRow)[] = [
  'phase',
  'model',
  'level',
  'batchSize',
  'load',
  'setup',
  'throughput',
  'requestRate',
  'latencyAvgMs',
  'latencyP50Ms',
  'latencyP90Ms',
  'latencyP95Ms',
  'latencyP99Ms',
  'errors',
  'stable',
  'windows',
  'queueUs',
  'computeInferUs',
  'computeOtherUs',
  'cpuProcessPct',
  'cpuSystemPct',
  'loadedBytes',
  'peakBytes',
];

function csvCell(v: unknown): string {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(Math.round(v * 1000) / 1000) : '') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: readonly ResultRow[]): string {
  return `${[CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`;
}

/** A table as CSV (cells as shown). */
export function tableCsv(t: Table): string {
  return `${[t.head, ...t.rows].map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}

/** A table as cells, shared by markdown and HTML. */

export function summaryTable(summary: readonly SummaryRow[], experiment: string): Table {
  if (experiment === 'dmp') {
    return {
      head: ['placement: model', 'alone inf/s', 'placed inf/s', 'vs alone', 'setup'],
      numeric: [false, true, true, true, false],
      rows: summary.map((s) => [
        s.model,
        num(s.baseline, 1),
        num(s.best, 1),
        Number.isFinite(s.speedup) ? `${num(s.speedup, 2)}x` : '-',
        s.note,
      ]),
    };
  }
  const levelName = experiment === 'batch' ? 'best batch size' : 'best level';
  const base =
    experiment === 'batch' ? 'batch 1 inf/s' : experiment === 'cme-mix' ? 'alone inf/s' : 'single-tenant inf/s';
  const best = experiment === 'cme-mix' ? 'in mix inf/s' : 'best inf/s';
  const vsBase =
    experiment === 'batch' ? 'vs batch 1' : experiment === 'cme-mix' ? 'vs alone' : 'vs single-tenant (papers)';
  const x = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? `${num(v, 2)}x` : '-');
  const plain = (p: SummaryRow['plain']) =>
    p ? `${num(p.median, 1)} (${num(p.min, 1)}-${num(p.max, 1)}, ${p.slices} slices)` : '-';
  return {
    head: [
      'model',
      'plain session inf/s',
      base,
      best,
      levelName,
      'vs plain',
      vsBase,
      'max level (memory)',
      'MB per instance',
      'note',
    ],
    numeric: [false, true, true, true, true, true, true, true, true, false],
    rows: summary.map((s) => [
      s.model,
      plain(s.plain),
      num(s.baseline, 1),
      num(s.best, 1),
      num(s.bestLevel, 0),
      x(s.bestVsPlain),
      x(s.speedup),
      num(s.maxLevel, 0),
      num(s.perInstanceMB, 1),
      s.note +
        (s.baselineVsPlain !== undefined && Number.isFinite(s.baselineVsPlain)
          ? `${s.note ? '; ' : ''}single-tenant = ${num(s.baselineVsPlain, 2)}x plain`
          : ''),
    ]),
  };
}

export function settingsTable(rows: readonly ResultRow[]): Table {
  const ratios = plainRatios(rows);
  return {
    head: [
      'phase',
      'model',
      'level',
      'batch',
      'setup',
      'inf/s',
      'vs plain',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'queue us',
      'infer us',
      'CPU proc %',
      'CPU sys %',
      'loaded MB',
      'stable',
    ],
    numeric: [false, false, true, true, false, true, true, true, true, true, true, true, true, true, true, false],
    rows: rows.map((r, i) => [
      r.phase,
      r.model,
      String(r.level),
      String(r.batchSize),
      r.setup,
      num(r.throughput, 1),
      Number.isFinite(ratios[i]) ? `${num(ratios[i], 2)}x` : '-',
      num(r.latencyP50Ms, 2),
      num(r.latencyP90Ms, 2),
      num(r.latencyP99Ms, 2),
      num(r.queueUs, 0),
      num(r.computeInferUs, 0),
      num(r.cpuProcessPct, 0),
      num(r.cpuSystemPct, 0),
      mb(r.loadedBytes),
      r.stable ? 'yes' : `no (${r.windows} windows)`,
    ]),
  };
}

export function markdownTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${t.head.map(esc).join(' | ')} |`,
    `| ${t.numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function environmentLines(env: Environment): string[] {
  return [
    `${env.cpuModel}, ${env.cores} cores, ${(env.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${env.platform} ${env.arch}`,
    `Node ${env.node}, onnxruntime-node ${env.onnxruntime ?? '?'}, tenancy ${env.tenancy ?? '?'}` +
      `${env.commit ? ` (commit ${env.commit.slice(0, 12)})` : ''}`,
    `target: ${env.target}`,
    ...env.models.map(
      (m) =>
        `model ${m.model}: ${
          m.sha256 ? `sha256 ${m.sha256.slice(0, 16)}…, ${((m.bytes ?? 0) / 1e6).toFixed(1)} MB` : 'file not known'
        }`,
    ),
  ];
}

/** The method, in words, so a reader of the report knows how the figures were measured. */
export function methodLines(settings: Record<string, unknown>): string[] {
  const s = settings as {
    windowMs?: number;
    warmupMs?: number;
    perInstance?: number;
    inputData?: { kind: string };
    stability?: { threshold: number; count: number; maxWindows: number };
  };
  return [
    `Closed loop: ${s.perInstance ?? 2} requests outstanding per instance, so every instance always has work; ` +
      `${s.inputData?.kind ?? 'random'} input data.`,
    `Each setting: ${s.warmupMs ?? 0} ms warm-up, then ${s.windowMs} ms windows ` +
      `until the last ${s.stability?.count ?? 3} agree within ${Math.round((s.stability?.threshold ?? 0.1) * 100)}% ` +
      `on throughput and average latency (at most ${s.stability?.maxWindows ?? 10} windows); ` +
      'figures are over those last windows.',
    'Throughput is inferences per second; latency is measured by the client; ' +
      "queue and infer times come from the server's statistics; CPU is % of all cores; " +
      'memory is resident memory of the serving process with the setting loaded.',
  ];
}

export function markdownReport(
  result: ExperimentResult,
  env: Environment,
  settings: Record<string, unknown>,
  runId: string | null,
  plots: string[],
): string {
  return [
    `# tenancy bench ${result.experiment}${runId ? ` (${runId})` : ''}`,
    '',
    ...environmentLines(env).map((l) => `- ${l}`),
    '',
    `## ${result.summaryTitle}`,
    '',
    markdownTable(summaryTable(result.summary, result.experiment)),
    '',
    ...result.notes.map((n) => `- ${n}`),
    '',
    ...(result.tables ?? []).flatMap((t) => [
      `## ${t.title}`,
      '',
      markdownTable(t.table),
      '',
      `(also in ${t.file})`,
      '',
    ]),
    '## Method',
    '',
    ...methodLines(settings).map((l) => `- ${l}`),
    '',
    ...(plots.length ? ['## Plots', '', ...plots.map((p) => `![${p}](${p})`), ''] : []),
    '## Every setting',
    '',
    markdownTable(settingsTable(result.rows)),
    '',
  ].join('\n');
}
