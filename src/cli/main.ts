/** The `tenancy` command line: one subcommand per file in this folder. */
import { Command } from 'commander';
import { isTenancyError } from '../errors.js';
import { registerZooCommand } from './zoo.js';
import { registerStartCommand } from './start.js';
import { registerServeCommand } from './serve.js';
import { registerInferCommand } from './infer.js';
import { registerBenchCommand } from './bench.js';
import { registerDevicesCommand } from './devices.js';
import { registerProfileCommand } from './profile.js';
import { registerPlanCommand } from './plan.js';

const program = new Command();
program
  .name('tenancy')
  .description('AI multi-tenancy for edge devices: many models at once, placed over the processors, served over the Open Inference Protocol')
  .showHelpAfterError();

registerStartCommand(program);
registerZooCommand(program);
registerServeCommand(program);
registerInferCommand(program);
registerBenchCommand(program);
registerDevicesCommand(program);
registerProfileCommand(program);
registerPlanCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has already printed and exited for its own usage errors; anything else that a
  // command throws ends here as one line, never a stack trace (2: the input was wrong).
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = isTenancyError(err, 'INVALID_ARG') ? 2 : 1;
}
