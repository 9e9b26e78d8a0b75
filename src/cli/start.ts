/**
 * `tenancy start` (what `npm start` runs): builds the default repository on first run, opens the
 * Open Inference Protocol ports, loads the models (readiness says no until they have loaded),
 * prints what is loaded where, then, while it already serves, runs a short self-check that
 * measures each model and classifies the example pictures; then it tunes each model live where
 * its config is silent, as `tenancy serve` does by default. `--no-serve` loads, self-checks and
 * ends without opening a port.
 */
import type { Command } from 'commander';
import { Engine, PlacementManager, type InputTable } from '../engine/index.js';
import { DEFAULT_PROFILE_DB } from '../placement/index.js';
import { cpuDevice } from '../runtime/index.js';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ensureDefaultRepository,
  exampleImagesDir,
  DEFAULT_REPOSITORY_DIR,
  TEXT_ORIENTATION,
} from '../default-repository.js';
import { createLogger } from '../log.js';
import { zeros, elementCount, type TensorMap } from '../tensor.js';
import { describeLoaded, printDefaults, printTuning, table } from './describe.js';
import { percentileOfSorted } from '../bench/latency-summary.js';
import { runClosedLoop } from '../bench/closed-loop.js';
import { startServers, DEFAULT_BODY_LIMIT } from '../server/index.js';
import { LOADING_NOTE, liveTuner, openTuningMemory, printServing, printUrls, untilSignal } from './serve.js';

interface StartOptions {
  repo?: string;
  checkSeconds: number;
  serve: boolean;
  host: string;
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('build the default model repository (first run), load it and self-check it')
    .option('--repo <dir>', 'model repository to load instead of the default one')
    .option('--check-seconds <s>', 'seconds of self-check load per model', (v) => Number(v), 1)
    .option('--no-serve', 'end after the self-check instead of serving (HTTP 8000, gRPC 8001, metrics 8002)')
    .option('--host <address>', 'interface to serve on', '127.0.0.1')
    .action((opts: StartOptions) => start(opts));
}

async function start(opts: StartOptions): Promise<void> {
  const repo = opts.repo ?? (await ensureDefaultRepository(DEFAULT_REPOSITORY_DIR, (l) => console.log(l)));
  const memory = opts.serve ? openTuningMemory(DEFAULT_PROFILE_DB, [cpuDevice()]) : null;
  const engine = new Engine({
    repository: repo,
    log: createLogger(process.env.TENANCY_LOG ?? 'warn'),
    storedTuning: memory?.lookup,
  });
  if (!opts.serve) {
    console.log(`loading ${repo} (${engine.cores} cores)`);
    await engine.loadAll();
    console.log(describeLoaded(engine));
    printDefaults(engine);
    await selfCheckAll(engine, opts.checkSeconds, '');
    await classifyExamples(engine);
    return engine.close();
  }
  const tuner = liveTuner(engine, memory);
  const placement = new PlacementManager(engine, { tuner });
  // The ports open before the models load; readiness says no until they have.
  engine.starting = true;
  const servers = await startServers(engine, {
    host: opts.host,
    httpPort: 8000,
    grpcPort: 8001,
    metricsPort: 8002,
    bodyLimit: DEFAULT_BODY_LIMIT,
    placement,
  });
  const listeningAt = performance.now();
  const stopped = untilSignal(engine, servers);
  printUrls(servers);
  console.log(`loading ${repo} (${engine.cores} cores); ${LOADING_NOTE}`);
  await engine.loadAll();
  engine.starting = false;
  console.log(describeLoaded(engine));
  printDefaults(engine);
  printTuning(tuner, memory);
  printServing(listeningAt);
  // After "serving": the self-check's requests share the models with whatever clients send meanwhile.
  await selfCheckAll(engine, opts.checkSeconds, ' (while serving)');
  await classifyExamples(engine);
  // The tuner starts after the self-check, whose closed loop is not the load to tune for.
  tuner.start();
  await stopped;
}

/** The self-check of every loaded model, as one table. */
async function selfCheckAll(engine: Engine, seconds: number, when: string): Promise<void> {
  console.log(`self-check${when}: closed loop, 2 requests per instance outstanding, ${seconds} s per model`);
  const rows = [['MODEL', 'INFERENCES/S', 'P50 MS', 'P99 MS', 'REQUESTS', 'ERRORS']];
  for (const model of engine.loaded()) {
    const r = await selfCheck(
      engine,
      model.name,
      sampleInputs(model.table),
      model.instances.length * 2,
      seconds * 1000,
    );
    rows.push([model.name, r.rate.toFixed(1), r.p50.toFixed(2), r.p99.toFixed(2), String(r.count), String(r.errors)]);
  }
  console.log(`${table(rows)}\n`);
}

/** Classifies the shipped example pictures with the real text-orientation classifier, through its image pipeline. */
async function classifyExamples(engine: Engine): Promise<void> {
  const dir = exampleImagesDir();
  const model = engine.loaded().find((m) => m.name === TEXT_ORIENTATION && m.config.image_input);
  if (!dir || !model) return;
  const files = (await readdir(dir)).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).sort();
  const output = model.config.output[0].name;
  const labels = model.labels[output] ?? [];
  const rows = [['PICTURE', 'LABEL', 'SCORE', 'COMPUTE INPUT MS', 'COMPUTE INFER MS']];
  for (const file of files) {
    const picture = await readFile(path.join(dir, file));
    const r = await engine.infer(TEXT_ORIENTATION, { x: { datatype: 'BYTES', shape: [1], data: [picture] } });
    const scores = Array.from(r.outputs[output].data as Float32Array);
    const best = scores.indexOf(Math.max(...scores));
    rows.push([
      path.join(path.relative(process.cwd(), dir) || '.', file),
      labels[best] ?? String(best),
      scores[best].toFixed(6),
      r.timing.computeInputMs.toFixed(2),
      r.timing.computeInferMs.toFixed(2),
    ]);
  }
  console.log(
    `${TEXT_ORIENTATION} on the example pictures (decoded, resized and normalized by the server's image pipeline):`,
  );
  console.log(`${table(rows)}\n`);
}

function sampleInputs(t: InputTable): TensorMap {
  const feeds: TensorMap = {};
  for (const spec of t.inputs.values()) {
    const shape = [...(t.maxBatchSize > 0 ? [1] : []), ...spec.dims.map((d) => (d === -1 ? 1 : d))];
    feeds[spec.name] = { datatype: spec.datatype, shape, data: zeros(spec.datatype, elementCount(shape)) };
  }
  return feeds;
}

async function selfCheck(engine: Engine, model: string, inputs: TensorMap, concurrency: number, ms: number) {
  const r = await runClosedLoop(() => engine.infer(model, inputs), { concurrency, durationMs: ms });
  const latencies = r.latencies.sort((a, b) => a - b);
  // Nearest rank, as `tenancy bench` and perf_analyzer report it.
  const q = (p: number) => percentileOfSorted(latencies, p * 100);
  return { rate: r.ok / r.seconds, p50: q(0.5), p99: q(0.99), count: r.ok, errors: r.failed };
}
