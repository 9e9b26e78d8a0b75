/**
 * ResNet-18 and ResNet-50 (He et al. 2016), as in torchvision: 7x7 stem and 3x3 max pool, four
 * stages of basic (two 3x3) or bottleneck (1x1, 3x3, 1x1 x4) blocks, 1x1 projection shortcuts where
 * the shape changes, stride on the 3x3 conv of a bottleneck (the "v1.5" variant; the parameter
 * count is the same either way), global average pool, FC to 1000 classes.
 */
import { GraphBuilder, type FeatureMap } from './graph-builder.js';

export interface ResNetOptions {
  inputSize: number;
  seed: number;
}

export type ResNetDepth = 18 | 50;

const CLASSES = 1000;
const STAGE_WIDTHS = [64, 128, 256, 512] as const;
const BLOCKS: Record<ResNetDepth, readonly number[]> = { 18: [2, 2, 2, 2], 50: [3, 4, 6, 3] };
/**
 * The last BN of each residual branch starts at a fraction of unit scale (torchvision's
 * zero_init_residual, softened) so the identity path dominates and activations stay bounded.
 */
const RESIDUAL_GAMMA = 0.2;

export function buildResNet(depth: ResNetDepth, o: ResNetOptions): GraphBuilder {
  const g = new GraphBuilder(o.seed);
  const bottleneck = depth === 50;
  const expansion = bottleneck ? 4 : 1;
  const convBn = (x: FeatureMap, name: string, out: number, kernel: number, stride = 1, gammaScale = 1) => {
    const c = g.conv(x, `${name}.conv`, { out, kernel, stride });
    return g.batchNorm(c, `${name}.bn`, 1e-5, gammaScale);
  };

  let x = g.input('input', 3, o.inputSize);
  x = g.relu(g.batchNorm(g.conv(x, 'conv1', { out: 64, kernel: 7, stride: 2 }), 'bn1'), 'relu');
  x = g.maxPool(x, 'maxpool', { kernel: 3, stride: 2, pad: 1 });

  BLOCKS[depth].forEach((count, stage) => {
    const width = STAGE_WIDTHS[stage]!;
    for (let i = 0; i < count; i++) {
      const name = `layer${stage + 1}.${i}`;
      const stride = i === 0 && stage > 0 ? 2 : 1;
      const out = width * expansion;
      let y: FeatureMap;
      if (bottleneck) {
        y = g.relu(convBn(x, `${name}.a`, width, 1), `${name}.a.relu`);
        y = g.relu(convBn(y, `${name}.b`, width, 3, stride), `${name}.b.relu`);
        y = convBn(y, `${name}.c`, out, 1, 1, RESIDUAL_GAMMA);
      } else {
        y = g.relu(convBn(x, `${name}.a`, width, 3, stride), `${name}.a.relu`);
        y = convBn(y, `${name}.b`, out, 3, 1, RESIDUAL_GAMMA);
      }
      const shortcut = stride !== 1 || x.channels !== out ? convBn(x, `${name}.downsample`, out, 1, stride) : x;
      x = g.relu(g.add(y, shortcut, `${name}.add`), `${name}.relu`);
    }
  });

  x = g.globalAvgPoolFlat(x, 'avgpool');
  g.output(g.gemm(x, 'fc', CLASSES), 'logits');
  return g;
}
