/** The registry of experiments: `tenancy bench <name>` runs one; `dmp` registers here too. */
import { errors } from '../errors.js';
import type { Experiment } from './experiment.js';
import { baselineExperiment } from './experiment-baseline.js';
import { cmeExperiment } from './experiment-cme.js';
import { cmeMixExperiment } from './experiment-cme-mix.js';
import { batchExperiment } from './experiment-batch.js';
import { dmpExperiment } from './experiment-dmp.js';

const registry = new Map<string, Experiment>();

export function registerExperiment(e: Experiment): void {
  registry.set(e.name, e);
}

for (const e of [baselineExperiment, cmeExperiment, cmeMixExperiment, batchExperiment, dmpExperiment])
  registerExperiment(e);

export function experimentNames(): string[] {
  return [...registry.keys()];
}

export function getExperiment(name: string): Experiment {
  const e = registry.get(name);
  if (!e)
    throw errors.invalidArg(`unknown experiment ${JSON.stringify(name)} (known: ${experimentNames().join(', ')})`);
  return e;
}
