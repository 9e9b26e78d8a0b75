/** The `tenancy` command line: one subcommand per file in this folder. */
import { Command } from 'commander';
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

await program.parseAsync(process.argv);
