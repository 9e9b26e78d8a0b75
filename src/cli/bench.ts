/**
 * `tenancy bench <experiment>`: the papers' experiments on this device (baseline, cme, cme-mix,
 * batch), on the in-process engine or, with --url, on any OIP server; each run writes a report
 * folder and is stored. `tenancy bench --compare A B` prints the ratios of two stored runs,
 * `tenancy bench --list` the latest runs. Usage errors exit with code 2.
 */
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ensureDefaultRepository, DEFAULT_REPOSITORY_DIR } from '../default-repository.js';
import { isTenancyError } from '../errors.js';
import { inventory, readDevicesFile } from '../runtime/index.js';
import { parseShape } from './arguments.js';
import {
  compareRuns,
  createProgress,
  defaultBenchOptions,
  experimentNames,
  formatComparison,
  History,
  markdownTable,
  parseInputData,
  rewriteReport,
  runBench,
  summaryTable,
  DEFAULT_DB_PATH,
  EngineTarget,
  UrlTarget,
  type BenchOptions,
  type Target,
} from '../bench/index.js';

const USAGE_EXIT_CODE = 2;

interface BenchCommandOptions {
  repo?: string;
  url?: string;
  protocol?: 'http' | 'grpc';
  json?: boolean;
  out?: string;
  models?: string[];
  windowMs: number;
  warmupMs: number;
  maxWindows: number;
  stabilityPct: number;
  maxLevel?: number;
  memoryBudgetMb?: number;
  perInstance: number;
  inputData: string;
  shape: Record<string, number[]>;
  batchSizes?: number[];
  cores?: number;
  devices?: string;
  quiet?: boolean;
  db: string | false;
  compare?: string[];
  list?: boolean;
  rerender?: string;
  streaming?: boolean;
  plainBaseline: boolean;
  configParameter: Record<string, string>;
}

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(
      'measure this device: throughput vs concurrency level, maximum concurrency level, reports (after perf_analyzer)',
    )
    .argument('[experiment]', `experiment to run: ${experimentNames().join(', ')}`)
    .option('--repo <dir>', 'model repository (default: the built-in default repository)')
    .option(
      '--url <url>',
      'measure a running Open Inference Protocol server instead of the in-process engine ' +
        '(needs --model-control-mode explicit to change instances)',
    )
    .addOption(
      new Option('--protocol <p>', 'protocol for --url')
        .choices(['http', 'grpc'])
        .default(undefined, 'http, or grpc for grpc://'),
    )
    .option('--json', 'with --url over HTTP: send JSON tensors instead of binary tensor data')
    .option(
      '--streaming',
      'with --url over gRPC: send every request on one ModelStreamInfer stream (as perf_analyzer --streaming)',
    )
    .option('--out <dir>', 'report folder (default: .tenancy/reports/<run>)')
    .option('--models <a,b>', 'models to measure, comma-separated (default: all in the repository)', (v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .option('--window-ms <ms>', 'measurement window', integer(10), 5000)
    .option('--warmup-ms <ms>', 'load before the windows of each setting', integer(0), 2000)
    .option('--max-windows <n>', 'windows after which an unstable setting is reported anyway', integer(3), 10)
    .option('--stability-pct <p>', 'how far the last 3 windows may differ, in %', number(0), 10)
    .option('--max-level <n>', 'highest concurrency level to try (default: max(8, 4 x cores))', integer(1))
    .option(
      '--memory-budget-mb <mb>',
      'memory the serving side may use (default: 90% of what is available now)',
      number(1),
    )
    .option('--per-instance <n>', 'requests kept outstanding per instance', integer(1), 2)
    .option('--input-data <kind>', "zero, random or a JSON file in perf_analyzer's --input-data format", 'random')
    .addOption(
      new Option('--shape <name:dims>', "size of an input's dynamic dimensions, e.g. x:3,48,192 (repeatable)")
        .argParser(parseShape)
        .default({}, 'none'),
    )
    .option('--batch-sizes <list>', 'client batch sizes for the batch experiment (default 1,2,4,8,16,32)', (v) =>
      v.split(',').map((s) => integer(1)(s)),
    )
    .option('--cores <n>', "cores the engine's thread budget may hand out (default: all)", integer(1))
    .option(
      '--devices <file>',
      'devices file: core sets and simulated accelerators the engine may place on ' +
        '(dmp: default the cores in two halves and a simulated EdgeTPU)',
    )
    .option(
      '--no-plain-baseline',
      'do not measure the plain onnxruntime-node session between settings ' +
        '(speedups then only against the single-tenant baseline)',
    )
    .addOption(
      new Option(
        '--config-parameter <name=value>',
        'set parameters.NAME = {string_value: VALUE} (Triton model-config parameters) in every model config ' +
          "the experiment loads, e.g. share_weights=false (repeatable; over the model's own; the experiment " +
          "still sets what defines it: the baseline's intra_op_thread_count and enable_spinning, dmp's threads)",
      )
        .argParser(parseConfigParameter)
        .default({}, 'none'),
    )
    .option('--quiet', 'no progress output (for CI); the summary is still printed')
    .option('--db <file>', 'results database', DEFAULT_DB_PATH)
    .option('--no-db', 'do not store the run')
    .option('--compare <runs...>', 'print the ratios of two stored runs: --compare RUN_A RUN_B')
    .option('--list', 'list the latest stored runs')
    .option('--rerender <dir>', 'render a report folder again from its result.json (no measuring)')
    .action(async (experiment: string | undefined, opts: BenchCommandOptions, cmd: Command) => {
      const usage = (message: string): never =>
        cmd.error(`error: ${message}`, { exitCode: USAGE_EXIT_CODE, code: 'tenancy.bench.usage' });
      const out = (s: string) => process.stdout.write(`${s}\n`);
      try {
        if (opts.list || opts.compare) return history(opts, usage, out);
        if (opts.rerender)
          return void out(`rewrote ${(await rewriteReport(opts.rerender)).join(', ')} in ${opts.rerender}`);
        if (!experiment) usage(`name an experiment (${experimentNames().join(', ')}), or use --compare RUN_A RUN_B`);
        if (!experimentNames().includes(experiment!))
          usage(`unknown experiment ${JSON.stringify(experiment)} (known: ${experimentNames().join(', ')})`);
        await run(experiment!, opts, out);
      } catch (err) {
        if (isTenancyError(err, 'INVALID_ARG')) usage(err.message);
        throw err;
      }
    });
}

function history(opts: BenchCommandOptions, usage: (m: string) => never, out: (s: string) => void): void {
  if (opts.db === false) usage('--compare and --list need the results database; drop --no-db');
  const db = new History(opts.db as string);
  try {
    if (opts.list) {
      for (const r of db.list(20))
        out(`${r.id}  ${r.experiment.padEnd(9)} ${r.startedAt}  ${r.commit?.slice(0, 10) ?? ''}`);
      return;
    }
    if (opts.compare!.length !== 2)
      usage(`--compare takes two run ids, got ${opts.compare!.length}: ${opts.compare!.join(' ')}`);
    const [a, b] = opts.compare!.map((id) => db.load(id));
    out(formatComparison(a, b, compareRuns(a, b)));
  } finally {
    db.close();
  }
}

async function run(experiment: string, opts: BenchCommandOptions, out: (s: string) => void): Promise<void> {
  const options: BenchOptions = defaultBenchOptions({
    windowMs: opts.windowMs,
    warmupMs: opts.warmupMs,
    perInstance: opts.perInstance,
    inputData: parseInputData(opts.inputData),
    shapes: opts.shape,
    plainBaseline: opts.plainBaseline,
    configParameters: opts.configParameter,
  });
  options.stability = { ...options.stability, threshold: opts.stabilityPct / 100, maxWindows: opts.maxWindows };
  if (opts.maxLevel) options.sweep.maxLevel = opts.maxLevel;
  if (opts.memoryBudgetMb) options.sweep.memoryBudgetBytes = opts.memoryBudgetMb * 2 ** 20;
  if (opts.batchSizes) options.batchSizes = opts.batchSizes;
  const progress = createProgress({ quiet: Boolean(opts.quiet) });
  let target: Target;
  if (opts.url) {
    const protocol = opts.protocol ?? (opts.url.startsWith('grpc://') ? 'grpc' : 'http');
    target = new UrlTarget({
      url: opts.url,
      protocol,
      binary: !opts.json,
      repository: opts.repo,
      streaming: opts.streaming,
    });
  } else {
    const repo = opts.repo ?? (await ensureDefaultRepository(DEFAULT_REPOSITORY_DIR, (l) => progress.note(l)));
    // The GPU is probed by the experiments that place on it (dmp), not here: probing costs a process.
    const devices = opts.devices
      ? await inventory({ file: await readDevicesFile(opts.devices), probeGpu: false })
      : undefined;
    target = new EngineTarget({ repository: repo, cores: opts.cores, devices });
  }
  const outDir =
    opts.out ??
    path.join(
      '.tenancy',
      'reports',
      `${experiment}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}`,
    );
  try {
    const r = await runBench({
      experiment,
      target,
      models: opts.models,
      options,
      outDir,
      dbPath: opts.db === false ? null : opts.db,
      progress,
    });
    out(`\n${r.result.summaryTitle}\n`);
    out(markdownTable(summaryTable(r.result.summary, r.result.experiment)));
    for (const t of r.result.tables ?? []) out(`\n${t.title}\n\n${markdownTable(t.table)}`);
    out(`\nreport: ${path.join(outDir, 'index.html')}${r.runId ? `\nrun: ${r.runId} (in ${opts.db})` : ''}`);
  } finally {
    await target.close();
  }
}

/** `--config-parameter NAME=VALUE`, repeatable: the value is everything after the first '=' (may be empty). */
export function parseConfigParameter(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  const name = at < 0 ? '' : value.slice(0, at).trim();
  if (!name) throw usageError(`expected NAME=VALUE such as share_weights=false, got ${JSON.stringify(value)}`);
  return { ...previous, [name]: value.slice(at + 1) };
}

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min)
      throw usageError(`expected an integer >= ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

function number(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min)
      throw usageError(`expected a number >= ${min}, got ${JSON.stringify(value)}`);
    return n;
  };
}

/** Commander's InvalidArgumentError exits with 1; usage errors here exit with 2. */
function usageError(message: string): InvalidArgumentError {
  const err = new InvalidArgumentError(message);
  err.exitCode = USAGE_EXIT_CODE;
  return err;
}
