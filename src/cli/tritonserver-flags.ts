/**
 * tritonserver's command line on `tenancy serve`, so a Triton deployment's flags carry over:
 * --model-repository (repeatable: one namespace over the folders), --load-model '*' (every model, explicit mode),
 * --strict-readiness, --exit-on-error, --log-verbose, and Triton's `--flag=value` booleans. The
 * flags tenancy does not have are named with what to do instead, never a bare "unknown option".
 */
import { Option, type Command } from 'commander';
import { errors } from '../errors.js';
import { usageError } from './arguments.js';

/** Triton's booleans take a value (`--exit-on-error=false`); a bare flag means true. */
function boolean(flag: string) {
  return (v: string | undefined): boolean => {
    if (v === undefined || v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw usageError(`${flag} takes true or false, got "${v}"`);
  };
}

/** tritonserver flags tenancy does not have, and what to do instead. */
const NOT_HERE: Record<string, string> = {
  '--strict-model-config': 'tenancy always completes a config from the ONNX file where it is silent',
  '--disable-auto-complete-config': 'tenancy always completes a config from the ONNX file where it is silent',
  '--backend-config':
    "the ONNX Runtime settings go in each model's parameters (intra_op_thread_count, inter_op_thread_count)",
  '--backend-directory': 'tenancy has one backend, ONNX Runtime, built in',
  '--exit-timeout-secs': 'a shutdown waits up to 30 s for the requests in flight',
  '--pinned-memory-pool-byte-size': 'there is no CUDA memory pool: tenancy runs on CPUs and WebGPU',
  '--cuda-memory-pool-byte-size': 'there is no CUDA memory pool: tenancy runs on CPUs and WebGPU',
  '--min-supported-compute-capability': 'there is no CUDA: tenancy runs on CPUs and WebGPU',
  '--rate-limit': 'there is no rate limiter: each model has a bounded queue (max_queue_size)',
  '--rate-limit-resource': 'there is no rate limiter: each model has a bounded queue (max_queue_size)',
  '--cache-config': 'there is no response cache',
  '--trace-config': 'tracing is not supported; per-request timings are in statistics and metrics',
  '--http-thread-count': "the HTTP server runs on Node's event loop; instances run in their own threads",
  '--http-address': 'use --host (one address for every port)',
  '--grpc-address': 'use --host (one address for every port)',
  '--metrics-address': 'use --host (one address for every port)',
  '--allow-http': 'use --http-port; every server is on unless its port is taken',
  '--allow-grpc': 'use --grpc-port; every server is on unless its port is taken',
  '--allow-metrics': 'use --metrics-port; every server is on unless its port is taken',
  '--allow-sagemaker': "SageMaker's protocol is not served",
  '--allow-vertex-ai': "Vertex AI's protocol is not served",
  '--id': 'the server\'s name is "tenancy"',
  '--model-namespacing': 'model names are one namespace',
  '--buffer-manager-thread-count': 'there is no buffer manager thread pool',
  '--grpc-infer-allocation-pool-size': 'gRPC buffers are pooled by size on their own',
};

/** Adds the tritonserver flags to `serve`. */
export function addTritonserverOptions(cmd: Command): Command {
  cmd
    .addOption(
      new Option(
        '--model-repository <dir>',
        "tritonserver's name for --repo; repeat it to serve several folders (a model name must be unique across them)",
      ).argParser((dir: string, before: string[] | undefined) => [...(before ?? []), dir]),
    )
    .addOption(
      new Option(
        '--strict-readiness [bool]',
        'ready only when every model is ready (default true; false: ready once serving)',
      )
        .argParser(boolean('--strict-readiness'))
        .default(true),
    )
    .addOption(
      new Option(
        '--exit-on-error [bool]',
        'exit with an error when a model fails to load at start (default false: serve the rest)',
      )
        .argParser(boolean('--exit-on-error'))
        .default(false),
    )
    .addOption(
      new Option(
        '--log-verbose <level>',
        'log detail: 0 warnings and errors (default), 1 info, 2 and up debug',
      ).argParser((v: string) => {
        if (!/^\d+$/.test(v)) throw usageError(`--log-verbose takes a level 0, 1, 2..., got "${v}"`);
        return Number(v);
      }),
    );
  for (const [flag, instead] of Object.entries(NOT_HERE))
    cmd.addOption(
      new Option(`${flag} [value]`).hideHelp().argParser(() => {
        throw usageError(`tritonserver's ${flag} is not a tenancy flag: ${instead}`);
      }),
    );
  return cmd;
}

/** Ends the command when a tritonserver-only flag was given bare (a flag with a value ends in its parser). */
export function refuseTritonOnlyFlags(opts: Record<string, unknown>): void {
  for (const [flag, instead] of Object.entries(NOT_HERE)) {
    const key = flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (opts[key] !== undefined) throw errors.invalidArg(`tritonserver's ${flag} is not a tenancy flag: ${instead}`);
  }
}

/** The log level that --log-verbose asks for, or undefined to keep the default. */
export function logLevel(verbose: number | undefined): string | undefined {
  if (verbose === undefined) return undefined;
  return verbose === 0 ? 'warn' : verbose === 1 ? 'info' : 'debug';
}
