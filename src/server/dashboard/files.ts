/**
 * The dashboard's files: its page, script and style (in static/ beside this module under src/;
 * tsc does not copy them to dist/, so from dist/ they are read from src/ at the package root, as
 * grpc-proto.ts finds its .proto), uPlot from node_modules, and the bench reports in
 * .tenancy/reports/<run>/ (read-only, only known file types, no path outside a run's folder).
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_REPORTS_DIR = path.join('.tenancy', 'reports');

export function staticDir(): string {
  const beside = fileURLToPath(new URL('./static/', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../../src/server/dashboard/static/', import.meta.url));
}

export interface Asset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
};

/** The page's files by URL name, read once (a few tens of KB). */
export function loadAssets(): Map<string, Asset> {
  const dir = staticDir();
  const require = createRequire(import.meta.url);
  const files: [string, string][] = [
    ['index.html', path.join(dir, 'index.html')],
    ['app.js', path.join(dir, 'app.js')],
    ['app.css', path.join(dir, 'app.css')],
    ['uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js')],
    ['uplot.css', require.resolve('uplot/dist/uPlot.min.css')],
  ];
  return new Map(
    files.map(([name, file]) => [name, { type: TYPES[path.extname(file)] ?? 'text/plain', body: readFileSync(file) }]),
  );
}

export interface ReportRun {
  run: string;
  /** Epoch ms of the folder's last change. */
  modified: number;
  files: string[];
}

const RUN_NAME = /^[A-Za-z0-9._-]+$/;

/** The report folders, newest first (none when the folder does not exist). */
export async function listReports(dir: string): Promise<ReportRun[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const runs: ReportRun[] = [];
  for (const run of names) {
    if (!RUN_NAME.test(run) || run.startsWith('.')) continue;
    try {
      const st = await stat(path.join(dir, run));
      if (!st.isDirectory()) continue;
      const files = (await readdir(path.join(dir, run))).filter((f) => RUN_NAME.test(f) && TYPES[path.extname(f)]);
      runs.push({ run, modified: st.mtimeMs, files: files.sort() });
    } catch {
      // removed meanwhile
    }
  }
  return runs.sort((a, b) => b.modified - a.modified);
}

/** One file of one report, or null when there is no such file (or the name is not a report file's). */
export async function readReport(dir: string, run: string, file: string): Promise<Asset | null> {
  if (!RUN_NAME.test(run) || !RUN_NAME.test(file) || run.startsWith('.') || file.startsWith('.')) return null;
  const type = TYPES[path.extname(file)];
  if (!type) return null;
  try {
    return { type, body: await readFile(path.join(dir, run, file)) };
  } catch {
    return null;
  }
}
