/** `tenancy devices`: the device inventory: CPU and core sets, GPU (probed), simulated accelerators. */
import type { Command } from 'commander';
import { inventory, readDevicesFile } from '../runtime/index.js';
import { textOrientationModelFile } from '../default-repository.js';
import { table } from './describe.js';

export function registerDevicesCommand(program: Command): void {
  program
    .command('devices')
    .description('list the devices instances can run on (CPU, core sets, GPU via WebGPU, simulated accelerators)')
    .option('--devices <file>', 'devices file: core sets and simulated accelerators (JSON)')
    .option('--no-probe', 'do not probe the GPU')
    .option('--json', 'print JSON')
    .action(async (opts: { devices?: string; probe: boolean; json?: boolean }) => {
      const file = opts.devices ? await readDevicesFile(opts.devices) : undefined;
      const devices = await inventory({ file, probeGpu: opts.probe, probeModel: textOrientationModelFile() });
      if (opts.json) return console.log(JSON.stringify(devices, null, 2));
      const rows = [['DEVICE', 'AVAILABLE', 'CORES', 'MEMORY', 'DESCRIPTION']];
      for (const d of devices) {
        rows.push([
          d.id,
          d.available ? 'yes' : `no: ${d.reason}`,
          d.cores ? d.cores.join(',') : d.maxConcurrent ? `max ${d.maxConcurrent} at once` : '-',
          d.memoryBytes ? `${(d.memoryBytes / 2 ** 20).toFixed(0)} MB` : '-',
          d.description,
        ]);
      }
      console.log(table(rows));
    });
}
