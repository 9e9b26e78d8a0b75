/**
 * Measurement windows and perf_analyzer's stability rule: a setting is measured in back-to-back
 * time windows; it is stable when the last `count` windows agree within `threshold` on throughput
 * and on average latency (max / min <= 1 + threshold, and no window without completions). At most
 * `maxWindows` windows are taken; an unstable result is still reported, marked unstable. Pure.
 */
import { errors } from '../errors.js';

export interface StabilityRule {
  /** Relative spread allowed, e.g. 0.1 = 10%. */
  threshold: number;
  /** Windows that must agree, e.g. 3. */
  count: number;
  /** Windows after which the measurement ends even if unstable, e.g. 10. */
  maxWindows: number;
}

export const DEFAULT_STABILITY: StabilityRule = { threshold: 0.1, count: 3, maxWindows: 10 };

/** The two figures of a window that the rule compares. */
export interface WindowFigures {
  /** Inferences per second. */
  throughput: number;
  /** Average latency of the requests completed in the window, ms. */
  latencyAvgMs: number;
}

export function checkStabilityRule(rule: StabilityRule): void {
  if (!(rule.threshold >= 0))
    throw errors.invalidArg(`stability threshold must be >= 0 (e.g. 0.1 for 10%), got ${rule.threshold}`);
  if (!Number.isInteger(rule.count) || rule.count < 1)
    throw errors.invalidArg(`stability window count must be an integer >= 1, got ${rule.count}`);
  if (!Number.isInteger(rule.maxWindows) || rule.maxWindows < rule.count)
    throw errors.invalidArg(
      `maximum windows must be an integer >= the stability window count (${rule.count}), got ${rule.maxWindows}`,
    );
}

const within = (values: number[], threshold: number): boolean => {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return min > 0 && max / min <= 1 + threshold + 1e-12;
};

/** Whether the last `rule.count` windows agree, as perf_analyzer decides it. */
export function isStable(windows: readonly WindowFigures[], rule: StabilityRule = DEFAULT_STABILITY): boolean {
  if (windows.length < rule.count) return false;
  const last = windows.slice(-rule.count);
  if (last.some((w) => !(w.throughput > 0) || !Number.isFinite(w.latencyAvgMs))) return false;
  return (
    within(
      last.map((w) => w.throughput),
      rule.threshold,
    ) &&
    within(
      last.map((w) => w.latencyAvgMs),
      rule.threshold,
    )
  );
}

export type WindowVerdict = 'continue' | 'stable' | 'unstable';

/** After each window: go on, or stop because the figures are stable or the windows are used up. */
export function windowVerdict(
  windows: readonly WindowFigures[],
  rule: StabilityRule = DEFAULT_STABILITY,
): WindowVerdict {
  if (isStable(windows, rule)) return 'stable';
  return windows.length >= rule.maxWindows ? 'unstable' : 'continue';
}
