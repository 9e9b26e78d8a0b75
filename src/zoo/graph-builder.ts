/**
 * A tiny ONNX graph builder for the reference model zoo.
 *
 * It tracks each tensor's channels and spatial size while the graph is built, so weight shapes
 * follow from the layers and an input too small for a window fails at build time with the layer's
 * name, not later inside the runtime. Weights are seeded and deterministic: every initializer gets
 * its own PRNG stream derived from (seed, initializer name), so the same seed gives identical bytes.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** ONNX opset the zoo targets (runs in onnxruntime-node 1.30). */
export const ZOO_OPSET = 13;
/** IR version that goes with opset 13. */
const IR_VERSION = 7;

/** A feature map flowing through the graph: [N, channels, height, width] (or [N, channels] once flattened). */
export interface FeatureMap {
  readonly name: string;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

type Pair = number | readonly [number, number];

export interface ConvOptions {
  /** Output channels. */
  out: number;
  /** Kernel size, square or [kh, kw]. */
  kernel: Pair;
  /** Default 1. */
  stride?: number;
  /** Symmetric zero padding, square or [ph, pw]; default floor(kernel / 2) ("same" at stride 1). */
  pad?: Pair;
  /** Default 1; set to the input channels for a depthwise conv. */
  groups?: number;
  /** Default false (a batchnorm follows). */
  bias?: boolean;
  /** He gain: 2 when a ReLU follows (default), 1 for a linear layer. */
  gain?: number;
}

export interface PoolOptions {
  kernel: number;
  stride: number;
  /** Default 0. */
  pad?: number;
  /** PyTorch's ceil_mode; default false. */
  ceil?: boolean;
}

const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : [p[0], p[1]]);

/** FNV-1a over the string, mixed with the seed: the start state of one initializer's stream. */
function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; returns floats in [0, 1). */
function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();
  private trainable = 0;
  private inputInfo: onnxProto.onnx.IValueInfoProto | undefined;
  private outputInfo: onnxProto.onnx.IValueInfoProto | undefined;

  constructor(private readonly seed: number) {}

  /** Trainable parameters so far: conv/FC weights and biases, BN scale and bias (not BN running stats). */
  get parameterCount(): number {
    return this.trainable;
  }

  /** The graph input [N, channels, size, size], float32, N dynamic. */
  input(name: string, channels: number, size: number): FeatureMap {
    this.claim(name);
    this.inputInfo = valueInfo(name, ['N', channels, size, size]);
    return { name, channels, height: size, width: size };
  }

  /** Marks `x` (the output of the last node) as the graph output [N, classes], renaming it. */
  output(x: FeatureMap, name: string): void {
    const last = this.nodes[this.nodes.length - 1];
    if (!last?.output || last.output[0] !== x.name) throw new Error(`output: ${x.name} is not the last node's output`);
    if (x.height !== 1 || x.width !== 1)
      throw new Error(`output: ${x.name} is ${x.height}x${x.width}, expected a flat vector`);
    this.claim(name);
    last.output[0] = name;
    this.outputInfo = valueInfo(name, ['N', x.channels]);
  }

  conv(x: FeatureMap, name: string, o: ConvOptions): FeatureMap {
    const [kh, kw] = pair(o.kernel);
    const [ph, pw] = pair(o.pad ?? [Math.floor(kh / 2), Math.floor(kw / 2)]);
    const stride = o.stride ?? 1;
    const groups = o.groups ?? 1;
    if (x.channels % groups !== 0 || o.out % groups !== 0) {
      throw new Error(`${name}: channels ${x.channels}->${o.out} not divisible by groups ${groups}`);
    }
    const fanIn = (x.channels / groups) * kh * kw;
    const limit = Math.sqrt((3 * (o.gain ?? 2)) / fanIn); // uniform(-l, l) has variance gain / fanIn
    const inputs = [x.name, this.param(`${name}.weight`, [o.out, x.channels / groups, kh, kw], -limit, limit)];
    if (o.bias) inputs.push(this.param(`${name}.bias`, [o.out], -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)));
    const height = windows(name, x.height, kh, stride, ph, false);
    const width = windows(name, x.width, kw, stride, pw, false);
    this.node('Conv', name, inputs, [
      ints('kernel_shape', [kh, kw]),
      ints('strides', [stride, stride]),
      ints('pads', [ph, pw, ph, pw]),
      int('group', groups),
    ]);
    return { name, channels: o.out, height, width };
  }

  /**
   * Inference-mode batchnorm with running mean 0 and variance 1, so it scales by gamma and shifts
   * by beta. `gammaScale` < 1 damps a residual branch so activations stay bounded through deep nets.
   */
  batchNorm(x: FeatureMap, name: string, epsilon = 1e-5, gammaScale = 1): FeatureMap {
    const c = [x.channels];
    const inputs = [
      x.name,
      this.param(`${name}.weight`, c, 0.9 * gammaScale, 1.1 * gammaScale),
      this.param(`${name}.bias`, c, -0.05, 0.05),
      this.constant(`${name}.running_mean`, c, 0),
      this.constant(`${name}.running_var`, c, 1),
    ];
    this.node('BatchNormalization', name, inputs, [float('epsilon', epsilon)]);
    return { ...x, name };
  }

  relu(x: FeatureMap, name: string): FeatureMap {
    this.node('Relu', name, [x.name]);
    return { ...x, name };
  }

  /** min(max(x, 0), 6), as Clip with constant bounds (opset 11+). */
  relu6(x: FeatureMap, name: string): FeatureMap {
    const lo = this.names.has('relu6.min') ? 'relu6.min' : this.constant('relu6.min', [], 0);
    const hi = this.names.has('relu6.max') ? 'relu6.max' : this.constant('relu6.max', [], 6);
    this.node('Clip', name, [x.name, lo, hi]);
    return { ...x, name };
  }

  add(a: FeatureMap, b: FeatureMap, name: string): FeatureMap {
    if (a.channels !== b.channels || a.height !== b.height || a.width !== b.width) {
      throw new Error(`${name}: cannot add ${describe(a)} and ${describe(b)}`);
    }
    this.node('Add', name, [a.name, b.name]);
    return { ...a, name };
  }

  /** Concatenates along channels. */
  concat(xs: readonly FeatureMap[], name: string): FeatureMap {
    const [first] = xs;
    if (!first || xs.some((x) => x.height !== first.height || x.width !== first.width)) {
      throw new Error(`${name}: cannot concat ${xs.map(describe).join(', ')}`);
    }
    this.node(
      'Concat',
      name,
      xs.map((x) => x.name),
      [int('axis', 1)],
    );
    return { name, channels: xs.reduce((s, x) => s + x.channels, 0), height: first.height, width: first.width };
  }

  maxPool(x: FeatureMap, name: string, o: PoolOptions): FeatureMap {
    return this.pool('MaxPool', x, name, o, []);
  }

  /** Average pool; padded cells count in the divisor, as in PyTorch's default. */
  avgPool(x: FeatureMap, name: string, o: PoolOptions): FeatureMap {
    return this.pool('AveragePool', x, name, o, [int('count_include_pad', 1)]);
  }

  /** Global average pool and flatten: [N, C, H, W] -> [N, C]. */
  globalAvgPoolFlat(x: FeatureMap, name: string): FeatureMap {
    this.node('GlobalAveragePool', `${name}.pool`, [x.name]);
    this.node('Flatten', name, [`${name}.pool`], [int('axis', 1)]);
    return { name, channels: x.channels, height: 1, width: 1 };
  }

  /** Fully connected layer y = x W^T + b on a flat [N, C] input. */
  gemm(x: FeatureMap, name: string, out: number): FeatureMap {
    if (x.height !== 1 || x.width !== 1) throw new Error(`${name}: needs a flat input, got ${describe(x)}`);
    const limit = Math.sqrt(3 / x.channels); // variance 1 / fanIn: logits of order one
    const w = this.param(`${name}.weight`, [out, x.channels], -limit, limit);
    const b = this.param(`${name}.bias`, [out], -1 / Math.sqrt(x.channels), 1 / Math.sqrt(x.channels));
    this.node('Gemm', name, [x.name, w, b], [int('transB', 1)]);
    return { name, channels: out, height: 1, width: 1 };
  }

  /** Serializes the model; metadata goes to the ModelProto's metadata_props. */
  toBytes(graphName: string, metadata: Record<string, string> = {}): Uint8Array {
    if (!this.inputInfo || !this.outputInfo) throw new Error(`${graphName}: graph has no input or output`);
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: ZOO_OPSET }],
      producerName: 'tenancy-zoo',
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: [this.inputInfo],
        output: [this.outputInfo],
      },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private pool(op: string, x: FeatureMap, name: string, o: PoolOptions, extra: onnxProto.onnx.IAttributeProto[]) {
    const pad = o.pad ?? 0;
    const height = windows(name, x.height, o.kernel, o.stride, pad, o.ceil ?? false);
    const width = windows(name, x.width, o.kernel, o.stride, pad, o.ceil ?? false);
    this.node(
      op,
      name,
      [x.name],
      [
        ints('kernel_shape', [o.kernel, o.kernel]),
        ints('strides', [o.stride, o.stride]),
        ints('pads', [pad, pad, pad, pad]),
        int('ceil_mode', o.ceil ? 1 : 0),
        ...extra,
      ],
    );
    return { ...x, name, height, width };
  }

  private node(opType: string, name: string, input: string[], attribute: onnxProto.onnx.IAttributeProto[] = []): void {
    this.claim(name);
    this.nodes.push({ opType, name, input, output: [name], attribute });
  }

  /** A trainable float32 initializer drawn uniformly from [lo, hi). */
  private param(name: string, dims: number[], lo: number, hi: number): string {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const next = mulberry32(streamSeed(this.seed, name));
    const span = hi - lo;
    for (let i = 0; i < data.length; i++) data[i] = lo + span * next();
    this.trainable += data.length;
    return this.tensor(name, dims, data);
  }

  /** A non-trainable float32 initializer filled with one value (BN running stats, clip bounds). */
  private constant(name: string, dims: number[], value: number): string {
    return this.tensor(name, dims, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value));
  }

  private tensor(name: string, dims: number[], data: Float32Array): string {
    this.claim(name);
    // Float32Array is little-endian on every platform Node runs on, as ONNX raw_data requires.
    const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData });
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`duplicate tensor name ${name}`);
    this.names.add(name);
  }
}

/** Output length of a sliding window; throws, naming the layer, when the input cannot fit one window. */
function windows(layer: string, size: number, kernel: number, stride: number, pad: number, ceil: boolean): number {
  const span = size + 2 * pad - kernel;
  if (size < 1 || span < 0) {
    throw new RangeError(`${layer}: a ${size}-pixel side (padding ${pad}) is smaller than its ${kernel}-pixel window`);
  }
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out -= 1; // PyTorch: the last window must start inside the input
  return out;
}

function describe(x: FeatureMap): string {
  return `${x.name} [${x.channels}, ${x.height}, ${x.width}]`;
}

function valueInfo(name: string, dims: (string | number)[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function ints(name: string, values: number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

function int(name: string, i: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

function float(name: string, f: number): onnxProto.onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}
