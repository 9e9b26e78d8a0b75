/**
 * The plain-session baseline: the loop a user would write instead of tenancy (one
 * onnxruntime-node session, default options, awaited in a loop), in a process of its own
 * (plain-session-main.ts), fed the bench's own input tensors. Experiments measure it in slices
 * between their own settings (A/B), so that the machine's drift falls on both sides, and give
 * every speedup against it: what a reader can reproduce with a plain onnxruntime-node loop.
 * The papers' single-tenant baseline (one instance inside tenancy) stays beside it, labelled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { errors } from '../errors.js';
import { toOrtType, type TensorMap } from '../tensor.js';
import type { PlainFromChild, PlainTensor, PlainToChild } from './plain-session-protocol.js';
import { summarizeLatencies, type LatencySummary } from './latency-summary.js';
import { isStable, windowVerdict, type StabilityRule, type WindowFigures } from './windows.js';

/** What a user would run instead: the label reports and tables carry. */
export const PLAIN_SESSION_LABEL = 'plain onnxruntime-node session (default options, awaited in a loop, own process)';

/** One measured slice of the plain session. */
export interface PlainSlice {
  /** Inferences per second (one request = one inference: batch 1, as the user's loop). */
  throughput: number;
  latencyMs: LatencySummary;
  /** Wall time measured, ms (after the warm-up). */
  measuredMs: number;
  /** The child's CPU time over the wall time, % of all cores (100 = every core busy). */
  cpuPct: number;
  rssBytes: number;
  /** Every window's figures, and whether the last ones agree by the stability rule. */
  windows: WindowFigures[];
  stable: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function plainSessionMainUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./plain-session-main${ext}`, import.meta.url);
}

export class PlainSession {
  private readonly child: ChildProcess;
  private waiting: ((m: PlainFromChild) => void) | null = null;
  private exited: string | null = null;
  rssBytes = NaN;

  private constructor() {
    const url = plainSessionMainUrl();
    const args = [...(url.pathname.endsWith('.ts') ? ['--import', 'tsx'] : []), fileURLToPath(url)];
    this.child = spawn(process.execPath, args, {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    this.child.on('message', (m: PlainFromChild) => {
      const w = this.waiting;
      this.waiting = null;
      w?.(m);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = signal ? `signal ${signal}` : `code ${code}`;
      const w = this.waiting;
      this.waiting = null;
      w?.({ type: 'error', message: `the plain-session process exited (${this.exited})` });
    });
  }

  /** Starts the process and loads `file` there; `inputs` are the requests it runs, in turn. */
  static async start(file: string, inputs: TensorMap[]): Promise<PlainSession> {
    const s = new PlainSession();
    try {
      const loaded = await s.ask({ type: 'load', file, inputs: inputs.map(plainInputs) }, 'loaded');
      s.rssBytes = loaded.rssBytes;
      return s;
    } catch (err) {
      s.close();
      throw err;
    }
  }

  /** PID of the process: the test checks that it is its own. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Runs the loop: `warmupMs`, then windows of `windowMs` until the bench's stability rule holds
   * for the last `rule.count` (or `rule.maxWindows` are used up), then stops it. The figures are
   * over those last windows, as for every setting the bench measures.
   */
  async measure(windowMs: number, warmupMs: number, rule: StabilityRule): Promise<PlainSlice> {
    await this.ask({ type: 'start' }, 'started');
    try {
      await sleep(warmupMs);
      const cuts = [await this.ask({ type: 'take' }, 'taken')];
      const windows: WindowFigures[] = [];
      for (;;) {
        await sleep(windowMs);
        const c = await this.ask({ type: 'take' }, 'taken');
        const prev = cuts[cuts.length - 1];
        cuts.push(c);
        const avg = c.latenciesMs.reduce((a, b) => a + b, 0) / c.latenciesMs.length;
        windows.push({
          throughput: (c.latenciesMs.length / (c.atMs - prev.atMs)) * 1000,
          latencyAvgMs: c.latenciesMs.length ? avg : NaN,
        });
        if (windowVerdict(windows, rule) !== 'continue') break;
      }
      const from = cuts[Math.max(0, cuts.length - 1 - rule.count)];
      const last = cuts[cuts.length - 1];
      const merged = cuts.slice(cuts.indexOf(from) + 1).flatMap((c) => c.latenciesMs);
      const ms = last.atMs - from.atMs;
      this.rssBytes = last.rssBytes;
      return {
        throughput: (merged.length / ms) * 1000,
        latencyMs: summarizeLatencies(merged),
        measuredMs: ms,
        cpuPct: (100 * (last.cpuUs - from.cpuUs)) / (ms * 1000 * (os.availableParallelism() || 1)),
        rssBytes: last.rssBytes,
        windows,
        stable: isStable(windows, rule),
      };
    } finally {
      await this.ask({ type: 'stop' }, 'stopped').catch(() => {});
    }
  }

  close(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private ask<T extends PlainFromChild['type']>(
    m: PlainToChild,
    want: T,
  ): Promise<Extract<PlainFromChild, { type: T }>> {
    if (this.exited) return Promise.reject(errors.internal(`the plain-session process exited (${this.exited})`));
    return new Promise((resolve, reject) => {
      this.waiting = (reply) => {
        if (reply.type === want) resolve(reply as Extract<PlainFromChild, { type: T }>);
        else
          reject(
            errors.internal(
              `plain session: ${reply.type === 'error' ? reply.message : `expected "${want}", got "${reply.type}"`}`,
            ),
          );
      };
      this.child.send(m);
    });
  }
}

function plainInputs(m: TensorMap): Record<string, PlainTensor> {
  const out: Record<string, PlainTensor> = {};
  for (const [name, t] of Object.entries(m))
    out[name] = { type: toOrtType(t.datatype), data: t.data, shape: [...t.shape] };
  return out;
}
