/**
 * SqueezeNet 1.1 (Iandola et al. 2016; the 1.1 revision from the SqueezeNet repository), as in
 * torchvision: convs with bias and no batchnorm, fire modules (1x1 squeeze, then 1x1 and 3x3
 * expand, concatenated), max pools with ceil_mode. Its classifier is the real one: a 1x1 conv to
 * 1000 channels, ReLU, global average pool, so the logits are non-negative.
 */
import { GraphBuilder, type FeatureMap } from './graph-builder.js';

export interface SqueezeNetOptions {
  inputSize: number;
  seed: number;
}

const CLASSES = 1000;

/** Fire modules in order: [squeeze, expand1x1, expand3x3]; 'pool' marks a 3x3/2 ceil-mode max pool. */
const FEATURES: readonly (readonly [number, number, number] | 'pool')[] = [
  'pool',
  [16, 64, 64],
  [16, 64, 64],
  'pool',
  [32, 128, 128],
  [32, 128, 128],
  'pool',
  [48, 192, 192],
  [48, 192, 192],
  [64, 256, 256],
  [64, 256, 256],
];

export function buildSqueezeNet11(o: SqueezeNetOptions): GraphBuilder {
  const g = new GraphBuilder(o.seed);
  const convRelu = (x: FeatureMap, name: string, out: number, kernel: number, stride = 1, pad?: number) =>
    g.relu(g.conv(x, `${name}.conv`, { out, kernel, stride, pad, bias: true }), `${name}.relu`);

  let x = g.input('input', 3, o.inputSize);
  x = convRelu(x, 'features.0', 64, 3, 2, 0);
  FEATURES.forEach((layer, i) => {
    const name = `features.${i + 1}`;
    if (layer === 'pool') {
      x = g.maxPool(x, `${name}.maxpool`, { kernel: 3, stride: 2, ceil: true });
      return;
    }
    const [squeeze, e1, e3] = layer;
    const s = convRelu(x, `${name}.squeeze`, squeeze, 1);
    x = g.concat([convRelu(s, `${name}.expand1x1`, e1, 1), convRelu(s, `${name}.expand3x3`, e3, 3)], `${name}.concat`);
  });
  x = convRelu(x, 'classifier.1', CLASSES, 1);
  x = g.globalAvgPoolFlat(x, 'avgpool');
  g.output(x, 'logits');
  return g;
}
