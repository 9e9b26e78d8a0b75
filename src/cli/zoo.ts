/**
 * `tenancy zoo [names...] --out <dir>`: writes reference models (ONNX + Triton-style config.json)
 * into a model repository. Bad names or values exit with code 2 and a message naming the value and
 * what is accepted; nothing is written unless every requested model's options are valid.
 */
import { join } from 'node:path';

import { type Command, InvalidArgumentError } from 'commander';

import {
  ZOO_NAMES,
  type ZooName,
  type ZooModel,
  type ZooOptions,
  buildZooModel,
  isZooName,
  resolveZooOptions,
  writeZooModelEntry,
} from '../zoo/index.js';

/** Exit code for a usage error (a bad name or option value). */
const USAGE_EXIT_CODE = 2;

interface ZooCommandOptions {
  out?: string;
  inputSize?: number;
  width?: number;
  seed?: number;
  instances?: number;
  maxBatchSize?: number;
}

export function registerZooCommand(program: Command): void {
  program
    .command('zoo')
    .description('write reference models (ONNX, seeded weights, real layer structure) into a model repository')
    .argument('[names...]', `models to write (default: all): ${ZOO_NAMES.join(', ')}`, parseName)
    .option('--out <dir>', 'model repository folder to write into (required)')
    .option(
      '--input-size <n>',
      'input side in pixels (default 224, 299 for inception_v3; min 32, 75 for inception_v3)',
      integerParser(1),
    )
    .option('--width <m>', 'width multiplier, > 0 and <= 4 (mobilenet_v1 and mobilenet_v2 only; default 1)', parseWidth)
    .option('--seed <n>', 'weight seed, an integer >= 0 (default 1)', integerParser(0))
    .option(
      '--instances <n>',
      'instance_group count written to config.json ' +
        '(default: none, so the server serves its measured default: one instance per core)',
      integerParser(1),
    )
    .option('--max-batch-size <n>', 'max_batch_size written to config.json (default 32)', integerParser(1))
    .action(async (names: ZooName[] | undefined, opts: ZooCommandOptions, cmd: Command) => {
      const usage = (message: string): never =>
        cmd.error(`error: ${message}`, { exitCode: USAGE_EXIT_CODE, code: 'tenancy.zoo.usage' });
      const out = opts.out || usage("required option '--out <dir>' not specified");
      const selected = [...new Set(names && names.length > 0 ? names : ZOO_NAMES)];
      const options: ZooOptions = {
        inputSize: opts.inputSize,
        widthMultiplier: opts.width,
        seed: opts.seed,
        maxBatchSize: opts.maxBatchSize,
      };
      // Check every model first, so a bad value for the fifth model does not leave four written.
      for (const name of selected) {
        try {
          resolveZooOptions(name, options);
        } catch (err) {
          if (err instanceof RangeError) usage(err.message);
          throw err;
        }
      }
      // Commander's output hook (stdout by default), so an embedding program or a test can capture it.
      const writeOut = cmd.configureOutput().writeOut ?? ((line: string) => process.stdout.write(line));
      for (const name of selected) {
        const model = buildZooModel(name, options);
        const dir = await writeZooModelEntry(out, model, { instanceCount: opts.instances });
        writeOut(`${describeWritten(model, dir)}\n`);
      }
    });
}

/** One line per model written: name, parameter count vs published, file size, path. */
function describeWritten(model: ZooModel, dir: string): string {
  const { parameterCount: count, publishedParameterCount: published } = model;
  const diff = ((count / published - 1) * 100).toFixed(2);
  const widthNote = model.options.widthMultiplier !== 1 ? ' at width 1' : '';
  return [
    model.name.padEnd(13),
    `${count.toLocaleString('en-US')} params`,
    `(published ${published.toLocaleString('en-US')}${widthNote}, ${diff.startsWith('-') ? '' : '+'}${diff}%)`,
    `${(model.bytes.byteLength / 1e6).toFixed(1)} MB`,
    join(dir, '1', 'model.onnx'),
  ].join('  ');
}

function parseName(value: string, previous: ZooName[] | undefined): ZooName[] {
  if (!isZooName(value)) throw usageError(`expected one of: ${ZOO_NAMES.join(', ')}`);
  return [...(previous ?? []), value];
}

function integerParser(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) {
      throw usageError(`expected an integer >= ${min}`);
    }
    return n;
  };
}

function parseWidth(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw usageError('expected a number > 0, such as 0.5 or 1');
  return n;
}

/** Commander's InvalidArgumentError exits with 1; usage errors here exit with 2. */
function usageError(message: string): InvalidArgumentError {
  const err = new InvalidArgumentError(message);
  err.exitCode = USAGE_EXIT_CODE;
  return err;
}
