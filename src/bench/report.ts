/**
 * Writes a run's report folder: result.json (everything), results.csv (every setting),
 * summary.md (tables and plots for a repository page), one SVG per plot, and index.html, a single
 * self-contained page with the SVGs inlined.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../errors.js';
import type { Environment } from './environment.js';
import type { ExperimentResult } from './experiment.js';
import { plotsFor, renderSvg } from './plots.js';
import {
  environmentLines,
  markdownReport,
  methodLines,
  settingsTable,
  summaryTable,
  tableCsv,
  toCsv,
} from './report-tables.js';
import type { Table } from './table.js';

export interface ReportInput {
  runId: string | null;
  result: ExperimentResult;
  environment: Environment;
  settings: Record<string, unknown>;
  startedAt: Date;
  finishedAt: Date;
}

export const REPORT_FILES = ['result.json', 'results.csv', 'summary.md', 'index.html'] as const;

const json = (v: unknown) =>
  `${JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x), 2)}\n`;

/** Writes the folder; returns the files written (names relative to it). */
export async function writeReport(dir: string, input: ReportInput): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const { result, environment, settings, runId } = input;
  const plots = plotsFor(result);
  const svgs: { file: string; title: string; svg: string }[] = [];
  for (const p of plots) svgs.push({ file: p.file, title: p.title, svg: await renderSvg(p.spec) });
  const files: [string, string][] = [
    [
      'result.json',
      json({
        runId,
        experiment: result.experiment,
        startedAt: input.startedAt,
        finishedAt: input.finishedAt,
        environment,
        settings,
        summaryTitle: result.summaryTitle,
        summary: result.summary,
        notes: result.notes,
        tables: result.tables,
        rows: result.rows,
      }),
    ],
    ['results.csv', toCsv(result.rows)],
    ...(result.tables ?? []).map((t): [string, string] => [t.file, tableCsv(t.table)]),
    [
      'summary.md',
      markdownReport(
        result,
        environment,
        settings,
        runId,
        svgs.map((s) => s.file),
      ),
    ],
    ...svgs.map((s): [string, string] => [s.file, s.svg]),
    ['index.html', html(input, svgs)],
  ];
  for (const [name, text] of files) await writeFile(path.join(dir, name), text);
  return files.map(([name]) => name);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function htmlTable(t: Table): string {
  const cell = (tag: string, s: string, i: number) => `<${tag}${t.numeric[i] ? ' class="n"' : ''}>${esc(s)}</${tag}>`;
  const head = t.head.map((h, i) => cell('th', h, i)).join('');
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function html(input: ReportInput, svgs: { title: string; svg: string }[]): string {
  const { result, environment, settings, runId } = input;
  const list = (lines: string[]) => `<ul>${lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`;
  const span = `${esc(input.startedAt.toISOString())} to ${esc(input.finishedAt.toISOString())}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tenancy bench ${esc(result.experiment)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.85rem}th,td{border:1px solid #ccc;padding:.25rem .5rem}
th{background:#f3f3f3}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.5rem 0}figcaption{font-weight:600;margin-bottom:.5rem}.muted{color:#666}
</style></head><body>
<h1>tenancy bench ${esc(result.experiment)}</h1>
<p class="muted">${esc(runId ?? 'not stored')} · ${span}</p>
${list(environmentLines(environment))}
<h2>${esc(result.summaryTitle)}</h2>
${htmlTable(summaryTable(result.summary, result.experiment))}
${list(result.notes)}
${(result.tables ?? []).map((t) => `<h2>${esc(t.title)}</h2>\n${htmlTable(t.table)}`).join('\n')}
<h2>Method</h2>
${list(methodLines(settings))}
<h2>Plots</h2>
${svgs.map((s) => `<figure><figcaption>${esc(s.title)}</figcaption>${s.svg}</figure>`).join('\n')}
<h2>Every setting</h2>
${htmlTable(settingsTable(result.rows))}
</body></html>
`;
}

/**
 * Renders a report folder again from its own result.json (after the plots or tables improved, or
 * to fix a note), without measuring anything again.
 */
export async function rewriteReport(dir: string): Promise<string[]> {
  const file = path.join(dir, 'result.json');
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw errors.invalidArg(`cannot read the report's ${file}: ${err.message}`);
  });
  const j = JSON.parse(text, (_k, x) => (x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : x)) as Omit<
    ReportInput,
    'result' | 'startedAt' | 'finishedAt'
  > &
    ExperimentResult & { startedAt: string; finishedAt: string };
  const result: ExperimentResult = {
    experiment: j.experiment,
    rows: j.rows,
    summary: j.summary,
    summaryTitle: j.summaryTitle,
    notes: j.notes,
    ...(j.tables ? { tables: j.tables } : {}),
  };
  return writeReport(dir, {
    runId: j.runId,
    result,
    environment: j.environment,
    settings: j.settings,
    startedAt: new Date(j.startedAt),
    finishedAt: new Date(j.finishedAt),
  });
}
