/**
 * Runs one experiment end to end: picks the models, collects the environment, runs, stores the
 * run in the results database and writes the report folder. What the CLI and library users call.
 */
import { errors } from '../errors.js';
import { withParameters } from './config-overrides.js';
import { collectEnvironment } from './environment.js';
import { getExperiment } from './experiments.js';
import type { ExperimentResult } from './experiment.js';
import { History } from './history.js';
import type { BenchOptions } from './options.js';
import { quietProgress, type Progress } from './progress.js';
import { writeReport } from './report.js';
import type { Target } from './target.js';
import { PlainBaselines } from './plain-baseline.js';
import { PLAIN_SESSION_LABEL } from './plain-session.js';

const PLAIN_NOTE =
  `"vs plain": against the ${PLAIN_SESSION_LABEL}, the loop a user would write instead, ` +
  'measured in slices before and after each setting with the same inputs, windows and stability rule; ' +
  'each ratio uses the slices around its setting. ' +
  `"vs single-tenant": against one instance inside tenancy with the runtime defaults, the papers' baseline.`;

export interface RunBenchOptions {
  experiment: string;
  target: Target;
  /** Models to measure; all the target serves when omitted. */
  models?: string[];
  options: BenchOptions;
  /** Report folder; none written when omitted. */
  outDir?: string;
  /** Results database file; the run is not stored when null. */
  dbPath: string | null;
  progress?: Progress;
}

export interface BenchRun {
  runId: string | null;
  result: ExperimentResult;
  files: string[];
}

export async function selectModels(target: Target, wanted?: string[]): Promise<string[]> {
  const available = await target.models();
  if (!wanted || wanted.length === 0) {
    if (available.length === 0) throw errors.invalidArg(`${target.description} has no models to measure`);
    return available;
  }
  const unknown = wanted.filter((m) => !available.includes(m));
  if (unknown.length)
    throw errors.invalidArg(
      `unknown model${unknown.length > 1 ? 's' : ''} ${unknown.map((m) => JSON.stringify(m)).join(', ')} ` +
        `(${target.description} has: ${available.join(', ') || 'none'})`,
    );
  return [...new Set(wanted)];
}

/**
 * The target whose configs carry `parameters` (--config-parameter), so every experiment's
 * overrides start from them; loads go through the repository extension as any override does, so
 * a --url server gets them too. A proxy rather than a wrapper class: experiments test
 * `instanceof EngineTarget` (dmp), and the target's own state (a gRPC stream) must stay on it.
 */
export function withConfigParameters(target: Target, parameters: Record<string, string>): Target {
  if (Object.keys(parameters).length === 0) return target;
  const config = async (model: string) => withParameters(await target.config(model), parameters);
  return new Proxy(target, {
    get(t, key) {
      if (key === 'config') return config;
      const v = Reflect.get(t, key, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

export async function runBench(o: RunBenchOptions): Promise<BenchRun> {
  const experiment = getExperiment(o.experiment);
  const models = await selectModels(o.target, o.models);
  const target = withConfigParameters(o.target, o.options.configParameters);
  const progress = o.progress ?? quietProgress;
  const environment = await collectEnvironment(o.target, models);
  const settings = { experiment: experiment.name, models, ...o.options } as unknown as Record<string, unknown>;
  // Open the database first: a bad path should fail before minutes of measuring, not after.
  const history = o.dbPath ? new History(o.dbPath) : null;
  try {
    progress.note(`tenancy bench ${experiment.name}: ${experiment.description}; models: ${models.join(', ')}`);
    const startedAt = new Date();
    const plain = o.options.plainBaseline ? new PlainBaselines() : null;
    let result: ExperimentResult;
    try {
      result = await experiment.run({ target, models, options: o.options, progress, plain });
    } finally {
      plain?.close();
    }
    if (plain) result.notes.push(...plain.notes, PLAIN_NOTE);
    const parameters = Object.entries(o.options.configParameters);
    if (parameters.length)
      result.notes.push(
        `Every model config loaded with ${parameters.map(([k, v]) => `${k}=${v}`).join(', ')} ` +
          'in its parameters (--config-parameter), except where the experiment sets the key itself.',
      );
    const finishedAt = new Date();
    const runId = history
      ? history.save({
          experiment: experiment.name,
          startedAt,
          finishedAt,
          environment,
          settings,
          result,
          reportDir: o.outDir ?? null,
        })
      : null;
    const files = o.outDir
      ? await writeReport(o.outDir, { runId, result, environment, settings, startedAt, finishedAt })
      : [];
    return { runId, result, files };
  } finally {
    history?.close();
  }
}
