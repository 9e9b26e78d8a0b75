/**
 * `tenancy bench --compare A B`: the ratios B / A of two stored runs, setting by setting (the same
 * phase, model, level and batch size) and summary line by summary line. Ratios, because these
 * machines are shared and noisy: an absolute figure from another day means little alone.
 */
import type { StoredRun } from './history.js';

export interface ComparedRow {
  key: string;
  a: number;
  b: number;
  /** b / a for throughput; for latency, also b / a (below 1 is better). */
  ratio: number;
  p99Ratio: number;
}

export interface Comparison {
  settings: ComparedRow[];
  summary: { model: string; bestRatio: number; speedupA: number; speedupB: number }[];
  onlyInA: string[];
  onlyInB: string[];
}

const keyOf = (r: { phase: string; model: string; level: number; batchSize: number }) =>
  `${r.phase} ${r.model} level ${r.level} batch ${r.batchSize}`;

export function compareRuns(a: StoredRun, b: StoredRun): Comparison {
  const inB = new Map(b.rows.map((r) => [keyOf(r), r]));
  const inA = new Map(a.rows.map((r) => [keyOf(r), r]));
  const settings: ComparedRow[] = [];
  for (const [key, ra] of inA) {
    const rb = inB.get(key);
    if (rb)
      settings.push({
        key,
        a: ra.throughput,
        b: rb.throughput,
        ratio: rb.throughput / ra.throughput,
        p99Ratio: rb.latencyP99Ms / ra.latencyP99Ms,
      });
  }
  const summary = a.summary.flatMap((sa) => {
    const sb = b.summary.find((s) => s.model === sa.model);
    return sb ? [{ model: sa.model, bestRatio: sb.best / sa.best, speedupA: sa.speedup, speedupB: sb.speedup }] : [];
  });
  return {
    settings,
    summary,
    onlyInA: [...inA.keys()].filter((k) => !inB.has(k)),
    onlyInB: [...inB.keys()].filter((k) => !inA.has(k)),
  };
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
    .join('\n');
}

export function formatComparison(a: StoredRun, b: StoredRun, c: Comparison): string {
  const env = (r: StoredRun) =>
    `${r.id}: ${r.experiment}, ${r.startedAt}, ${r.environment.cpuModel} x${r.environment.cores}, ` +
    `node ${r.environment.node}, onnxruntime ${r.environment.onnxruntime ?? '?'}, ` +
    `commit ${r.environment.commit?.slice(0, 10) ?? '?'}`;
  const out = [`A = ${env(a)}`, `B = ${env(b)}`, ''];
  if (c.summary.length) {
    out.push(
      table([
        ['MODEL', 'BEST B/A', 'SPEEDUP A', 'SPEEDUP B'],
        ...c.summary.map((s) => [s.model, f(s.bestRatio), f(s.speedupA), f(s.speedupB)]),
      ]),
      '',
    );
  }
  if (c.settings.length) {
    out.push(
      table([
        ['SETTING', 'A INF/S', 'B INF/S', 'B/A', 'P99 B/A'],
        ...c.settings.map((s) => [s.key, f(s.a, 1), f(s.b, 1), f(s.ratio), f(s.p99Ratio)]),
      ]),
    );
  } else out.push('no setting was measured in both runs');
  if (c.onlyInA.length) out.push('', `only in A: ${c.onlyInA.join('; ')}`);
  if (c.onlyInB.length) out.push('', `only in B: ${c.onlyInB.join('; ')}`);
  return out.join('\n');
}
