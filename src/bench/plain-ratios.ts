/**
 * Ratios to the plain-session baseline, from the result rows in measurement order. Pure. A
 * setting is compared with the mean of its model's plain slices just before and just after it
 * (one of them at the ends), so that the machine's drift during a run falls on both sides.
 */
import type { ResultRow } from './result-row.js';

export const PLAIN_PHASE = 'plain';

/** Per row: its throughput over the adjacent plain slices of its model; NaN for plain rows and models without any. */
export function plainRatios(rows: readonly ResultRow[]): number[] {
  return rows.map((r, i) => {
    if (r.phase === PLAIN_PHASE) return NaN;
    let before = NaN;
    let after = NaN;
    for (let j = i - 1; j >= 0; j--)
      if (rows[j].phase === PLAIN_PHASE && rows[j].model === r.model) {
        before = rows[j].throughput;
        break;
      }
    for (let j = i + 1; j < rows.length; j++)
      if (rows[j].phase === PLAIN_PHASE && rows[j].model === r.model) {
        after = rows[j].throughput;
        break;
      }
    const around = [before, after].filter((x) => Number.isFinite(x) && x > 0);
    return around.length ? r.throughput / (around.reduce((a, b) => a + b, 0) / around.length) : NaN;
  });
}

export interface PlainFigure {
  /** Median of the slices, inferences/s. */
  median: number;
  min: number;
  max: number;
  slices: number;
}

/** The plain-session figure of one model over all its slices; null when none was measured. */
export function plainFigure(rows: readonly ResultRow[], model: string): PlainFigure | null {
  const t = rows
    .filter((r) => r.phase === PLAIN_PHASE && r.model === model)
    .map((r) => r.throughput)
    .sort((a, b) => a - b);
  if (t.length === 0) return null;
  const mid = t.length >> 1;
  return {
    median: t.length % 2 ? t[mid] : (t[mid - 1] + t[mid]) / 2,
    min: t[0],
    max: t[t.length - 1],
    slices: t.length,
  };
}
