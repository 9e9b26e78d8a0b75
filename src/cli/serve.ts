/**
 * `tenancy serve`: loads a model repository and serves it over the Open Inference Protocol (HTTP
 * and gRPC) with Prometheus metrics. SIGTERM/SIGINT stop accepting, let in-flight requests
 * finish, close the engine and exit 0.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { Engine, LiveTuner, PlacementManager, RepositoryPoller, TuningMemory } from '../engine/index.js';
import { TuningStore } from '../placement/tuning-store.js';
import { sqliteMissing } from '../sqlite.js';
import { DEFAULT_PROFILE_DB } from '../placement/index.js';
import { inventory, probeGpu, readDevicesFile, type Device } from '../runtime/index.js';
import { planOnDevices, type ModelProfile } from '../placement/index.js';
import { ensureDefaultRepository, DEFAULT_REPOSITORY_DIR, textOrientationModelFile } from '../default-repository.js';
import { createLogger } from '../log.js';
import { TenancyError } from '../errors.js';
import { describeRepositories } from '../repository/index.js';
import { missingHeapFlags } from '../server/heap-flags.js';
import {
  startServers,
  DEFAULT_BODY_LIMIT,
  DEFAULT_CONNECTION_LIMITS,
  MODEL_CONTROL_MODES,
  type ModelControlMode,
  type RunningServers,
  type ServerOptions,
} from '../server/index.js';
import { describeLoaded, printDefaults, printTuning } from './describe.js';
import { parseShape } from './arguments.js';
import { addSecurityOptions, securityOptions, type SecurityFlags } from './serve-security.js';
import { addTritonserverOptions, logLevel, refuseTritonOnlyFlags } from './tritonserver-flags.js';

export const PLACEMENT_MODES = ['tune', 'manual', 'auto'] as const;
export type PlacementMode = (typeof PLACEMENT_MODES)[number];

export interface ServeCommandOptions extends SecurityFlags {
  repo?: string;
  host: string;
  httpPort: number;
  grpcPort: number;
  metricsPort: number;
  modelControlMode: ModelControlMode;
  loadModel: string[];
  bodyLimit: number;
  /** Devices file: core sets and simulated accelerators. */
  devices?: string;
  /**
   * tune: where a config is silent, the measured defaults at once, tuned live under the real load
   * and remembered; manual: the configs (and the defaults where they are silent), moved only by
   * PUT /v2/placement; auto: planned from profiles and re-planned as the load shifts.
   */
  placement: PlacementMode;
  /** SQLite file of stored tunings (and profiles); "none": nothing is remembered. */
  profiles: string;
  /** Sizes of dynamic input dims by input name (warm-up and the tuning key before the first request). */
  shape: Record<string, number[]>;
  /** Let clients register system shared-memory regions (Triton's --allow-client-shm). */
  allowClientShm?: boolean;
  /** false with --no-dashboard: no page under /dashboard on the HTTP port. */
  dashboard?: boolean;
  httpHeaderTimeout: number;
  httpRequestTimeout: number;
  httpKeepAliveTimeout: number;
  httpMaxConnections: number;
  grpcIdleTimeout: number;
  grpcMaxConnections: number;
  /** tritonserver's flags (tritonserver-flags.ts). */
  /** tritonserver's --model-repository, repeatable. */
  modelRepository?: string[];
  strictReadiness: boolean;
  exitOnError: boolean;
  logVerbose?: number;
  /** With --model-control-mode poll: seconds between scans of the repository. */
  repositoryPollSecs: number;
}

function port(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535)
    throw new InvalidArgumentError('expected a port number from 0 to 65535 (0 = any free port)');
  return n;
}

function bytes(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1024) throw new InvalidArgumentError('expected a number of bytes >= 1024');
  return n;
}

function positive(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || !Number.isSafeInteger(n))
      throw new InvalidArgumentError(`expected ${what} (an integer >= 1)`);
    return n;
  };
}

export function registerServeCommand(program: Command): void {
  const serveCommand = program
    .command('serve')
    .description(
      'serve a model repository over the Open Inference Protocol (HTTP/REST and gRPC) with Prometheus metrics',
    )
    .option('--repo <dir>', 'model repository (default: the built-in default repository, built on first use)')
    .option('--host <address>', 'interface to listen on (0.0.0.0 serves other machines)', '127.0.0.1')
    .option('--http-port <n>', 'HTTP/REST port', port, 8000)
    .option('--grpc-port <n>', 'gRPC port', port, 8001)
    .option('--metrics-port <n>', 'Prometheus metrics port (GET /metrics)', port, 8002)
    .addOption(
      new Option(
        '--model-control-mode <mode>',
        'none: serve every model of the repository, fixed; ' +
          'explicit: load only --load-model ones, and allow the repository extension to load and unload; ' +
          'poll: serve what the folder holds, loading, reloading and unloading as it changes',
      )
        .choices(MODEL_CONTROL_MODES)
        .default('none'),
    )
    .option(
      '--repository-poll-secs <s>',
      'with --model-control-mode poll: seconds between scans of the repository folder',
      positive('seconds'),
      15,
    )
    .option(
      '--load-model <name>',
      "with --model-control-mode explicit: a model to load at start (repeatable; '*': every model of the repository)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--body-limit <bytes>', 'largest request accepted (HTTP body, gRPC message)', bytes, DEFAULT_BODY_LIMIT)
    .option('--devices <file>', 'devices file: core sets and simulated accelerators (see examples/devices.json)')
    .option(
      '--allow-client-shm',
      "let local clients pass tensors through system shared memory (Triton's extension); " +
        'they may then read any shared-memory object of this user',
    )
    .option(
      '--http-header-timeout <ms>',
      "time a client has to send a request's headers (then 408 and the connection closes)",
      positive('milliseconds'),
      DEFAULT_CONNECTION_LIMITS.headersTimeoutMs,
    )
    .option(
      '--http-request-timeout <ms>',
      'time a client has to send a whole request, headers and body (the inference is not counted)',
      positive('milliseconds'),
      DEFAULT_CONNECTION_LIMITS.requestTimeoutMs,
    )
    .option(
      '--http-keep-alive-timeout <ms>',
      'how long an idle keep-alive connection stays open',
      positive('milliseconds'),
      DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs,
    )
    .option(
      '--http-max-connections <n>',
      'open HTTP connections at most; more are closed as they arrive',
      positive('a number of connections'),
      DEFAULT_CONNECTION_LIMITS.maxConnections,
    )
    .option(
      '--grpc-idle-timeout <ms>',
      'how long a gRPC connection with no call stays open (then GOAWAY; clients reconnect on their next call)',
      positive('milliseconds'),
      DEFAULT_CONNECTION_LIMITS.grpcIdleTimeoutMs,
    )
    .option(
      '--grpc-max-connections <n>',
      'open gRPC connections at most; more are closed as they arrive',
      positive('a number of connections'),
      DEFAULT_CONNECTION_LIMITS.grpcMaxConnections,
    )
    .addOption(
      new Option(
        '--placement <mode>',
        'tune: where a config is silent on instances or batching, serve measured defaults at once, ' +
          'tune them under the live load and remember the result; ' +
          'manual: as the configs say (and the defaults where silent), moved only by PUT /v2/placement; ' +
          'auto: planned from measured profiles (profiling what is missing) and re-planned live as the load shifts',
      )
        .choices(PLACEMENT_MODES)
        .default('tune'),
    )
    .addOption(
      new Option(
        '--shape <name:dims>',
        "size of an input's dynamic dimensions without the batch dimension, e.g. x:3,48,192 (repeatable): " +
          'models with dynamic dims warm up at it and start on the tuning stored for it; ' +
          'requests may still carry any shape',
      )
        .argParser(parseShape)
        .default({}, 'none'),
    )
    .option(
      '--profiles <file>',
      'SQLite file where tunings and profiles are stored ("none": remember nothing)',
      DEFAULT_PROFILE_DB,
    )
    .option('--no-dashboard', 'no live dashboard under /dashboard on the HTTP port (docs/dashboard.md)');
  addTritonserverOptions(addSecurityOptions(serveCommand)).action(async (opts: ServeCommandOptions, cmd: Command) => {
    refuseTritonOnlyFlags(opts as unknown as Record<string, unknown>);
    if (opts.repo !== undefined && opts.modelRepository !== undefined)
      cmd.error('error: give --repo or --model-repository, not both (they are the same flag)', { exitCode: 2 });
    if (opts.loadModel.length && opts.modelControlMode !== 'explicit')
      cmd.error('error: --load-model needs --model-control-mode explicit', { exitCode: 2 });
    if (opts.httpHeaderTimeout > opts.httpRequestTimeout)
      cmd.error(
        `error: --http-header-timeout (${opts.httpHeaderTimeout} ms) ` +
          `must not exceed --http-request-timeout (${opts.httpRequestTimeout} ms): the headers are part of the request`,
        { exitCode: 2 },
      );
    await serve(opts);
  });
}

export async function serve(opts: ServeCommandOptions): Promise<void> {
  // Read before the ports open: a wrong certificate path ends the command at once.
  const security = await securityOptions(opts);
  const repos = opts.modelRepository ?? [
    opts.repo ?? (await ensureDefaultRepository(DEFAULT_REPOSITORY_DIR, (l) => console.log(l))),
  ];
  // The CPU, its core sets and the simulated devices now; the GPU probe (a child process that
  // loads ONNX Runtime) runs once the ports are open, before any model loads.
  const devices = await inventory({
    file: opts.devices ? await readDevicesFile(opts.devices) : undefined,
    probeGpu: false,
  });
  const memory = opts.placement === 'tune' ? openTuningMemory(opts.profiles, devices) : null;
  const engine = new Engine({
    repository: repos,
    devices,
    log: createLogger(logLevel(opts.logVerbose) ?? process.env.TENANCY_LOG ?? 'warn'),
    storedTuning: memory?.lookup,
    shapes: opts.shape,
  });
  const tuner = opts.placement === 'tune' ? liveTuner(engine, memory) : undefined;
  // Auto placement's profiles are read (or measured) once the models serve; until then, none.
  const profiles: ModelProfile[] = [];
  const placement =
    opts.placement === 'auto'
      ? new PlacementManager(engine, { profiles: () => profiles })
      : new PlacementManager(engine, { tuner });
  // The ports open first; readiness says no until the loads below have ended (Engine.starting).
  engine.starting = true;
  const servers = await startServers(engine, {
    ...serverOptions(opts),
    ...security,
    placement,
    strictReadiness: opts.strictReadiness,
  });
  const listeningAt = performance.now();
  let poller: RepositoryPoller | null = null;
  // The signal handlers go in before the ports are announced: a SIGTERM while loading drains too.
  const stopped = untilSignal(engine, servers, () => poller?.stop());
  printUrls(servers, security, opts.dashboard !== false);
  console.log(
    `loading ${describeRepositories(repos)} (${engine.cores} cores, model control mode ${opts.modelControlMode}, ` +
      `placement ${opts.placement}); ${LOADING_NOTE}`,
  );
  await addProbedGpu(engine);
  if (opts.modelControlMode !== 'explicit' || opts.loadModel.includes('*')) await engine.loadAll();
  else if (opts.loadModel.length) await engine.loadAll(opts.loadModel);
  const failed = engine.index().filter((r) => r.state === 'UNAVAILABLE' && r.reason !== 'unloaded');
  if (opts.exitOnError && failed.length) {
    await servers.close();
    await engine.close();
    const what = (r: (typeof failed)[number]) => `${r.name}${r.version ? ` version ${r.version}` : ''}`;
    throw new TenancyError(
      'UNAVAILABLE',
      `--exit-on-error: ${failed.map((r) => `${what(r)} failed to load: ${r.reason}`).join('; ')}`,
    );
  }
  console.log(describeLoaded(engine));
  printDefaults(engine);
  if (tuner) printTuning(tuner, memory);
  if (opts.modelControlMode === 'poll') poller = await repositoryPoller(engine, opts.repositoryPollSecs);
  engine.starting = false;
  printServing(listeningAt);
  if (opts.placement === 'auto') await autoPlacement(engine, placement, profiles, opts.profiles);
  tuner?.start();
  await stopped;
}

/** What the line that starts the loads says after the repository: the ports are open, not yet ready. */
export const LOADING_NOTE = 'ports open, ready once the loads end (GET /v2/health/ready)';

/** Probes the GPU (ONNX Runtime's WebGPU provider, in a child process) and adds it to the engine's devices. */
export async function addProbedGpu(engine: Engine): Promise<void> {
  engine.addDevice(await probeGpu(textOrientationModelFile()));
}

/**
 * The store of tunings, or null with --profiles none, or where this install has no SQLite (Node 20
 * whose better-sqlite3 did not install): the server still serves and tunes, and forgets on exit.
 */
export function openTuningMemory(file: string, devices: Device[]): TuningMemory | null {
  if (file === 'none') return null;
  const missing = sqliteMissing();
  if (missing) {
    console.log(`tunings are not remembered (${file}): ${missing}`);
    return null;
  }
  return new TuningMemory(
    new TuningStore(file),
    devices.find((d) => d.id === 'cpu'),
  );
}

/** The live tuner, saying each change on one line. */
export function liveTuner(engine: Engine, memory: TuningMemory | null): LiveTuner {
  return new LiveTuner(engine, {
    memory,
    onChange: (t) => console.log(`tuning ${t.model}: ${t.state}: ${t.configuration}: ${t.why}`),
  });
}

/**
 * Auto placement, once the models serve: profiles from the store (measuring what is missing, on a
 * separate engine) into `profiles`, which `manager` reads; an initial plan with every model
 * weighted alike, then the controller re-plans as the load shifts.
 */
async function autoPlacement(
  engine: Engine,
  manager: PlacementManager,
  profiles: ModelProfile[],
  db: string,
): Promise<void> {
  const devices = engine.devices;
  const models = [...new Set(engine.loaded().map((m) => m.name))];
  console.log(
    `auto placement: profiles of ${models.join(', ')} on ${devices
      .filter((d) => d.available)
      .map((d) => d.id + (d.simulated ? ' (simulated)' : ''))
      .join(', ')} (stored ones reused; missing ones measured now)`,
  );
  // The profiler lives with the bench; loaded only in this mode.
  const { loadOrMeasureProfiles } = await import('../bench/index.js');
  profiles.push(
    ...(await loadOrMeasureProfiles(engine.repositories, devices, models, { db: db === 'none' ? null : db })),
  );
  const first = planOnDevices(
    profiles,
    devices,
    models.map((model) => ({ model, weight: 1 })),
  );
  for (const line of first.reasons) console.log(`  ${line}`);
  await manager.set(first.entries).catch((err) => console.log(`initial plan not applied: ${(err as Error).message}`));
  manager.startAuto();
}

export function serverOptions(opts: Omit<ServeCommandOptions, 'repo' | 'loadModel'>): ServerOptions {
  return {
    host: opts.host,
    httpPort: opts.httpPort,
    grpcPort: opts.grpcPort,
    metricsPort: opts.metricsPort,
    bodyLimit: opts.bodyLimit,
    modelControlMode: opts.modelControlMode,
    allowClientShm: opts.allowClientShm ?? false,
    dashboard: opts.dashboard === false ? false : {},
    connections: {
      headersTimeoutMs: opts.httpHeaderTimeout,
      requestTimeoutMs: opts.httpRequestTimeout,
      keepAliveTimeoutMs: opts.httpKeepAliveTimeout,
      maxConnections: opts.httpMaxConnections,
      grpcIdleTimeoutMs: opts.grpcIdleTimeout,
      grpcMaxConnections: opts.grpcMaxConnections,
    },
  };
}

export function printUrls(s: RunningServers, security: Partial<ServerOptions> = {}, dashboard = true): void {
  const h = s.host.includes(':') ? `[${s.host}]` : s.host;
  const scheme = security.httpTls ? 'https' : 'http';
  if (s.httpPort !== null)
    console.log(
      `HTTP/REST  ${scheme}://${h}:${s.httpPort}/v2   (e.g. curl ${scheme}://${h}:${s.httpPort}/v2/health/ready)`,
    );
  if (s.grpcPort !== null)
    console.log(
      `gRPC       ${h}:${s.grpcPort}   (inference.GRPCInferenceService` +
        `${security.grpcTls ? `, TLS${security.grpcTls.mutual ? ', client certificates' : ''}` : ''})`,
    );
  for (const [transport, list] of [
    ['HTTP', security.restrictedHttp],
    ['gRPC', security.restrictedGrpc],
  ] as const)
    for (const r of list ?? []) console.log(`restricted ${transport} ${r.groups.join(', ')}: key header "${r.key}"`);
  if (s.httpPort !== null && dashboard) console.log(`dashboard  ${scheme}://${h}:${s.httpPort}/dashboard`);
  if (s.metricsPort !== null) console.log(`metrics    http://${h}:${s.metricsPort}/metrics`);
  const missing = missingHeapFlags();
  if (missing.length)
    console.log(
      `note: node runs without ${missing.join(' ')}: ` +
        'under load expect full garbage collections several times a second ' +
        '(bin/tenancy.js and npm start pass them; see docs/serving.md, Performance)',
    );
}

/**
 * The lines that say the loads asked for at start have ended and the server is ready, with how
 * long that took since the process started, and when the ports opened (`listeningAt`, from
 * performance.now(): ms since the process started).
 */
export function printServing(listeningAt: number): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`ready ${s(performance.now())} after the process started (ports open at ${s(listeningAt)})`);
  console.log('serving; Ctrl-C or SIGTERM stops after the requests in flight');
}

/** Polls the repository folder (model control mode poll), saying each change on one line. */
async function repositoryPoller(engine: Engine, secs: number): Promise<RepositoryPoller> {
  const poller = new RepositoryPoller(engine, {
    intervalMs: secs * 1000,
    onChange: (c) => console.log(`repository: ${c.action} ${c.model}${c.error ? ` failed: ${c.error}` : ''}`),
  });
  await poller.baseline();
  poller.start();
  console.log(
    `polling ${describeRepositories(engine.repositories)} every ${secs} s for models added, changed or removed`,
  );
  return poller;
}

/** Waits for SIGTERM/SIGINT, then shuts down in order: stop accepting, finish in-flight, close the engine. */
export function untilSignal(engine: Engine, servers: RunningServers, beforeStop?: () => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`${signal}: finishing requests in flight`);
      beforeStop?.();
      await servers.close();
      await engine.close();
      console.log('stopped');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
      process.exit(0);
    };
    const onTerm = () => void stop('SIGTERM');
    const onInt = () => void stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
