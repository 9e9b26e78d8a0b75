/** The `tenancy` command line: one subcommand per file in this folder. */
import { Command, Option } from 'commander';
import { isTenancyError } from '../errors.js';
import { failureLine, LOG_FORMATS, setLogFormat, type LogFormat } from '../log.js';

/**
 * Each command's module, loaded only when it runs: `tenancy serve` then loads the server and the
 * engine, not the bench and its reports (a quarter of a second of start-up on a small box).
 * The root's help, or an unknown command, loads them all.
 */
type Register = (program: Command) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
  start: async () => (await import('./start.js')).registerStartCommand,
  zoo: async () => (await import('./zoo.js')).registerZooCommand,
  serve: async () => (await import('./serve.js')).registerServeCommand,
  infer: async () => (await import('./infer.js')).registerInferCommand,
  bench: async () => (await import('./bench.js')).registerBenchCommand,
  devices: async () => (await import('./devices.js')).registerDevicesCommand,
  profile: async () => (await import('./profile.js')).registerProfileCommand,
  plan: async () => (await import('./plan.js')).registerPlanCommand,
};

const program = new Command();
program
  .name('tenancy')
  .description(
    'AI multi-tenancy for edge devices: many models at once, placed over the processors, ' +
      'served over the Open Inference Protocol',
  )
  .showHelpAfterError()
  .addOption(
    new Option(
      '--log-format <format>',
      'text: plain lines (engine logs as JSON on stderr); json: every line a pino JSON record on stdout, ' +
        'for journald and log shippers',
    )
      .choices(LOG_FORMATS)
      .env('TENANCY_LOG_FORMAT')
      .default('text'),
  )
  .hook('preAction', () => setLogFormat(program.opts<{ logFormat: LogFormat }>().logFormat));

const asked = process.argv[2];
for (const name of asked && asked in COMMANDS ? [asked] : Object.keys(COMMANDS)) (await COMMANDS[name]())(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has already printed and exited for its own usage errors; anything else that a
  // command throws ends here as one line, never a stack trace (2: the input was wrong).
  process.stderr.write(failureLine(`error: ${err instanceof Error ? err.message : String(err)}`));
  process.exitCode = isTenancyError(err, 'INVALID_ARG') ? 2 : 1;
  // A failure after models loaded would leave their worker threads keeping the process alive
  // (and a service manager never seeing it fail): end it. Pipes and files are written at once here.
  process.exit();
}
