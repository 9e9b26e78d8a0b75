/**
 * The reference model zoo: ONNX builders for the architectures of the AI multi-tenancy papers,
 * with real layer structure and parameter counts and seeded weights, and a writer that puts one
 * into a model repository (Triton-style config.json + 1/model.onnx).
 *
 * Every model takes `input` [N, 3, S, S] float32 (N dynamic) and returns `logits` [N, 1000]
 * float32 (no softmax). Validation errors are RangeErrors whose message names the bad value and
 * what is accepted.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { GraphBuilder } from './graph-builder.js';
import { INCEPTION_V3_MIN_INPUT, buildInceptionV3 } from './inception.js';
import { buildMobileNetV1, buildMobileNetV2 } from './mobilenet.js';
import { buildResNet } from './resnet.js';
import { buildSqueezeNet11 } from './squeezenet.js';

export type ZooName = 'mobilenet_v1' | 'mobilenet_v2' | 'resnet18' | 'resnet50' | 'squeezenet1_1' | 'inception_v3';

export interface ZooOptions {
  /** Input side S in pixels; default 224 (299 for inception_v3); minimum 32 (75 for inception_v3). */
  inputSize?: number;
  /**
   * Channel width multiplier, > 0 and <= 4; default 1. Only mobilenet_v1 and mobilenet_v2 accept a
   * value other than 1.
   */
  widthMultiplier?: number;
  /** Weight seed, an integer in [0, 2^32); default 1. The same seed gives identical bytes. */
  seed?: number;
  /** Written to config.json as max_batch_size; an integer >= 1, default 32. */
  maxBatchSize?: number;
}

export interface ZooModel {
  name: ZooName;
  /** The serialized ONNX ModelProto (opset 13). */
  bytes: Uint8Array;
  /** Trainable parameters counted from the graph's initializers (BN running stats excluded). */
  parameterCount: number;
  /** The published count for the reference configuration (width 1.0), to compare against. */
  publishedParameterCount: number;
  inputShape: [string, 3, number, number];
  options: Required<ZooOptions>;
}

interface Architecture {
  /** Where the published count comes from. */
  reference: string;
  published: number;
  defaultInputSize: number;
  minInputSize: number;
  acceptsWidth: boolean;
  build(o: Required<ZooOptions>): GraphBuilder;
}

/**
 * Networks with an overall stride of 32 reach a 1x1 map at 32 pixels; smaller inputs would leave
 * the last stages convolving padding only, so 32 is their minimum.
 */
const STRIDE_32_MIN = 32;

const ARCHITECTURES: Record<ZooName, Architecture> = {
  mobilenet_v1: {
    reference: 'Keras applications MobileNet (alpha 1.0), trainable parameters',
    published: 4_231_976,
    defaultInputSize: 224,
    minInputSize: STRIDE_32_MIN,
    acceptsWidth: true,
    build: (o) => buildMobileNetV1(o),
  },
  mobilenet_v2: {
    reference: 'torchvision mobilenet_v2 (width 1.0)',
    published: 3_504_872,
    defaultInputSize: 224,
    minInputSize: STRIDE_32_MIN,
    acceptsWidth: true,
    build: (o) => buildMobileNetV2(o),
  },
  resnet18: {
    reference: 'torchvision resnet18',
    published: 11_689_512,
    defaultInputSize: 224,
    minInputSize: STRIDE_32_MIN,
    acceptsWidth: false,
    build: (o) => buildResNet(18, o),
  },
  resnet50: {
    reference: 'torchvision resnet50',
    published: 25_557_032,
    defaultInputSize: 224,
    minInputSize: STRIDE_32_MIN,
    acceptsWidth: false,
    build: (o) => buildResNet(50, o),
  },
  squeezenet1_1: {
    reference: 'torchvision squeezenet1_1',
    published: 1_235_496,
    defaultInputSize: 224,
    minInputSize: STRIDE_32_MIN,
    acceptsWidth: false,
    build: (o) => buildSqueezeNet11(o),
  },
  inception_v3: {
    reference: 'torchvision inception_v3 without the auxiliary classifier',
    published: 23_834_568,
    defaultInputSize: 299,
    minInputSize: INCEPTION_V3_MIN_INPUT,
    acceptsWidth: false,
    build: (o) => buildInceptionV3(o),
  },
};

export const ZOO_NAMES: readonly ZooName[] = Object.freeze(Object.keys(ARCHITECTURES) as ZooName[]);

const MAX_WIDTH = 4;

export function isZooName(s: string): s is ZooName {
  return Object.hasOwn(ARCHITECTURES, s);
}

/** What the zoo knows about one architecture: defaults, limits and the published count's source. */
export function zooArchitecture(name: ZooName): Readonly<Omit<Architecture, 'build'>> {
  const { build: _build, ...info } = architecture(name);
  return info;
}

/** Fills in defaults and checks every option; throws a RangeError naming the bad value. */
export function resolveZooOptions(name: ZooName, options: ZooOptions = {}): Required<ZooOptions> {
  const arch = architecture(name);
  const o: Required<ZooOptions> = {
    inputSize: options.inputSize ?? arch.defaultInputSize,
    widthMultiplier: options.widthMultiplier ?? 1,
    seed: options.seed ?? 1,
    maxBatchSize: options.maxBatchSize ?? 32,
  };
  if (!Number.isInteger(o.inputSize) || o.inputSize < arch.minInputSize) {
    throw new RangeError(
      `inputSize ${o.inputSize} is not valid for ${name}: ` +
        `expected an integer >= ${arch.minInputSize} (default ${arch.defaultInputSize})`,
    );
  }
  if (!Number.isFinite(o.widthMultiplier) || o.widthMultiplier <= 0 || o.widthMultiplier > MAX_WIDTH) {
    throw new RangeError(
      `widthMultiplier ${o.widthMultiplier} is not valid: expected a number > 0 and <= ${MAX_WIDTH}`,
    );
  }
  if (o.widthMultiplier !== 1 && !arch.acceptsWidth) {
    const accepting = ZOO_NAMES.filter((n) => ARCHITECTURES[n].acceptsWidth).join(', ');
    throw new RangeError(
      `widthMultiplier ${o.widthMultiplier} is not valid for ${name}: only ${accepting} take a width multiplier`,
    );
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
    throw new RangeError(`seed ${o.seed} is not valid: expected an integer in [0, 4294967295]`);
  }
  if (!Number.isInteger(o.maxBatchSize) || o.maxBatchSize < 1) {
    throw new RangeError(`maxBatchSize ${o.maxBatchSize} is not valid: expected an integer >= 1`);
  }
  return o;
}

export function buildZooModel(name: ZooName, options?: ZooOptions): ZooModel {
  const arch = architecture(name);
  const resolved = resolveZooOptions(name, options);
  const graph = arch.build(resolved);
  const bytes = graph.toBytes(name, {
    zoo_architecture: name,
    zoo_options: describeOptions(resolved),
    parameter_count: String(graph.parameterCount),
  });
  return {
    name,
    bytes,
    parameterCount: graph.parameterCount,
    publishedParameterCount: arch.published,
    inputShape: ['N', 3, resolved.inputSize, resolved.inputSize],
    options: resolved,
  };
}

/** Writes <repoDir>/<modelName ?? name>/config.json and <...>/1/model.onnx; returns the model folder. */
export async function writeZooModel(
  repoDir: string,
  name: ZooName,
  options: ZooOptions & { modelName?: string; instanceCount?: number } = {},
): Promise<string> {
  const { modelName, instanceCount, ...zooOptions } = options;
  checkEntryOptions(modelName ?? name, instanceCount);
  return writeZooModelEntry(repoDir, buildZooModel(name, zooOptions), { modelName, instanceCount });
}

/** Writes an already built model as a repository entry (see writeZooModel); returns the model folder. */
export async function writeZooModelEntry(
  repoDir: string,
  model: ZooModel,
  { modelName = model.name, instanceCount }: { modelName?: string; instanceCount?: number } = {},
): Promise<string> {
  checkEntryOptions(modelName, instanceCount);
  const modelDir = join(repoDir, modelName);
  await mkdir(join(modelDir, '1'), { recursive: true });
  await writeFile(join(modelDir, '1', 'model.onnx'), model.bytes);
  const config = zooModelConfig(model, modelName, instanceCount);
  await writeFile(join(modelDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return modelDir;
}

function checkEntryOptions(modelName: string, instanceCount: number | undefined): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(modelName) || modelName === '.' || modelName === '..') {
    throw new RangeError(
      `modelName "${modelName}" is not valid: expected letters, digits, '_', '-' or '.' (a folder name)`,
    );
  }
  if (instanceCount !== undefined && (!Number.isInteger(instanceCount) || instanceCount < 1)) {
    throw new RangeError(`instanceCount ${instanceCount} is not valid: expected an integer >= 1`);
  }
}

/**
 * The Triton-style config.json of a zoo model. Without `instanceCount` it has no instance_group,
 * so the engine serves it with its measured default (engine/serving-defaults.ts).
 */
export function zooModelConfig(model: ZooModel, modelName: string = model.name, instanceCount?: number) {
  const size = model.options.inputSize;
  return {
    name: modelName,
    platform: 'onnxruntime_onnx',
    max_batch_size: model.options.maxBatchSize,
    input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [3, size, size] }],
    output: [{ name: 'logits', data_type: 'TYPE_FP32', dims: [1000] }],
    ...(instanceCount !== undefined ? { instance_group: [{ count: instanceCount, kind: 'KIND_CPU' }] } : {}),
    // Every zoo model has a dynamic batch dimension, so batch-1 clients get merged batches under load.
    ...(model.options.maxBatchSize > 0 ? { dynamic_batching: {} } : {}),
    parameters: {
      zoo_architecture: { string_value: model.name },
      zoo_options: { string_value: describeOptions(model.options) },
      parameter_count: { string_value: String(model.parameterCount) },
    },
  };
}

function describeOptions(o: Required<ZooOptions>): string {
  return `input=${o.inputSize} width=${o.widthMultiplier} seed=${o.seed}`;
}

function architecture(name: string): Architecture {
  if (!isZooName(name)) {
    throw new RangeError(`unknown zoo model "${name}": expected one of ${ZOO_NAMES.join(', ')}`);
  }
  return ARCHITECTURES[name];
}
