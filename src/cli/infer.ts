/**
 * `tenancy infer <model>`: one inference against a running server over HTTP (JSON or binary) or
 * gRPC, with inputs from a JSON file (the protocol's request body, or {name: tensor}), picture
 * files (`--image`, for a model with an image_input pipeline: one picture per batch row), or zeros
 * of the model's input shapes. Prints the result as JSON.
 */
import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  GrpcClient,
  HttpClient,
  ServerError,
  imageFileInputs,
  type InferenceClient,
  type ModelMetadata,
} from '../client/index.js';
import { elementCount, isDataType, zeros, type TensorMap } from '../tensor.js';
import { flatValues, tensorFromValues, tensorToValues } from '../protocol/tensor-wire.js';
import { inferViaSharedMemory } from './infer-shared-memory.js';

interface InferCommandOptions {
  url?: string;
  protocol: 'http' | 'grpc';
  input?: string;
  image?: string[];
  imageInput?: string;
  binary: boolean;
  classification?: number;
  version?: number;
  full: boolean;
  sharedMemory: 'none' | 'system';
  outputSharedMemorySize: number;
  requestCompression?: 'gzip' | 'deflate';
  responseCompression?: 'gzip' | 'deflate';
}

const positive = (v: string) => {
  if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError('expected an integer >= 1');
  return Number(v);
};

export function registerInferCommand(program: Command): void {
  program
    .command('infer')
    .description('send one inference request to a running tenancy (or any Open Inference Protocol) server')
    .argument('<model>', 'model name')
    .option('--url <url>', 'server address (default http://127.0.0.1:8000, or 127.0.0.1:8001 for gRPC)')
    .addOption(new Option('--protocol <p>', 'transport').choices(['http', 'grpc']).default('http'))
    .option(
      '--input <file.json>',
      'inputs: {"inputs": [{name, datatype, shape, data}]} or {"name": {datatype, shape, data}} (default: zeros)',
    )
    .option(
      '--image <files...>',
      'picture files (JPEG, PNG, WebP) sent as one BYTES input, one per batch row, for a model with image_input',
    )
    .option('--image-input <name>', "the input that takes the pictures (default: the model's only input)")
    .option('--no-binary', 'HTTP: send and receive JSON lists instead of binary tensor data (pictures as base64)')
    .option('--classification <k>', 'return the top k classes of each output as "score:index:label"', positive)
    .option('--version <n>', 'model version (default: the newest loaded)', positive)
    .option('--full', 'print every output value (default: the first 16 of each)', false)
    .addOption(
      new Option(
        '--shared-memory <kind>',
        'system: pass inputs and outputs through a POSIX shared-memory object ' +
          '(server on this machine, started with --allow-client-shm)',
      )
        .choices(['none', 'system'])
        .default('none'),
    )
    .option(
      '--output-shared-memory-size <bytes>',
      'with --shared-memory system: bytes reserved for each output',
      positive,
      102400,
    )
    .addOption(
      new Option('--request-compression <coding>', 'HTTP: send the request body compressed').choices([
        'gzip',
        'deflate',
      ]),
    )
    .addOption(
      new Option('--response-compression <coding>', 'HTTP: ask for the response compressed').choices([
        'gzip',
        'deflate',
      ]),
    )
    .action(async (model: string, opts: InferCommandOptions, cmd: Command) => {
      if (opts.protocol === 'grpc' && (opts.requestCompression || opts.responseCompression))
        cmd.error(
          'error: --request-compression and --response-compression are for --protocol http (HTTP Content-Encoding)',
          { exitCode: 1 },
        );
      const client: InferenceClient =
        opts.protocol === 'grpc'
          ? new GrpcClient(opts.url ?? '127.0.0.1:8001')
          : new HttpClient(opts.url ?? 'http://127.0.0.1:8000');
      try {
        const inputs = opts.input
          ? await inputsFromFile(opts.input)
          : opts.image
            ? await imageFileInputs(
                opts.imageInput ?? onlyInput(await client.modelMetadata(model, opts.version)),
                opts.image,
              )
            : zeroInputs(await client.modelMetadata(model, opts.version));
        const options = {
          binary: opts.binary,
          classification: opts.classification,
          version: opts.version,
          requestCompression: opts.requestCompression,
          responseCompression: opts.responseCompression,
        };
        const r =
          opts.sharedMemory === 'system'
            ? await inferViaSharedMemory(
                client,
                model,
                inputs,
                (await client.modelMetadata(model, opts.version)).outputs.map((o) => o.name),
                opts.outputSharedMemorySize,
                options,
              )
            : await client.infer(model, inputs, options);
        const outputs = Object.entries(r.outputs).map(([name, t]) => {
          const values = tensorToValues(t);
          const shown =
            opts.full || values.length <= 16 ? values : [...values.slice(0, 16), `... ${values.length - 16} more`];
          return { name, datatype: t.datatype, shape: t.shape, data: shown };
        });
        console.log(JSON.stringify({ model_name: r.model_name, model_version: r.model_version, outputs }, null, 2));
      } catch (err) {
        const why =
          err instanceof ServerError ? `server answered ${err.status}: ${err.message}` : (err as Error).message;
        cmd.error(`error: ${why}`, { exitCode: 1 });
      } finally {
        client.close();
      }
    });
}

function onlyInput(meta: ModelMetadata): string {
  if (meta.inputs.length !== 1)
    throw new Error(
      `model "${meta.name}" has ${meta.inputs.length} inputs (${meta.inputs.map((i) => i.name).join(', ')}): ` +
        'say which takes the pictures with --image-input',
    );
  return meta.inputs[0].name;
}

function zeroInputs(meta: ModelMetadata): TensorMap {
  const inputs: TensorMap = {};
  for (const i of meta.inputs) {
    if (!isDataType(i.datatype))
      throw new Error(`input "${i.name}" has datatype ${i.datatype}, which tenancy cannot build zeros of`);
    const shape = i.shape.map((d) => (d < 0 ? 1 : d));
    inputs[i.name] = { datatype: i.datatype, shape, data: zeros(i.datatype, elementCount(shape)) };
  }
  return inputs;
}

async function inputsFromFile(file: string): Promise<TensorMap> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const list = Array.isArray(json.inputs)
    ? (json.inputs as { name: string; datatype: string; shape: number[]; data: unknown[] }[])
    : Object.entries(json).map(([name, t]) => ({
        name,
        ...(t as { datatype: string; shape: number[]; data: unknown[] }),
      }));
  const inputs: TensorMap = {};
  for (const t of list) {
    if (!isDataType(t.datatype))
      throw new Error(`${file}: input "${t.name}" has an unknown datatype ${JSON.stringify(t.datatype)}`);
    inputs[t.name] = tensorFromValues(t.datatype, t.shape, flatValues(t.data ?? []), `${file}: input "${t.name}"`);
  }
  return inputs;
}
