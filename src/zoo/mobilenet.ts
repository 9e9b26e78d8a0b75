/**
 * MobileNet V1 (Howard et al. 2017, as in Keras: convs without bias, BN eps 1e-3, ReLU, 1x1 conv
 * classifier with bias, here written as the equivalent Gemm) and MobileNet V2 (Sandler et al. 2018,
 * as in torchvision: inverted residuals with linear bottlenecks, ReLU6, channels rounded to
 * multiples of 8).
 */
import { GraphBuilder, type FeatureMap } from './graph-builder.js';

export interface MobileNetOptions {
  inputSize: number;
  widthMultiplier: number;
  seed: number;
}

const CLASSES = 1000;

/** Depthwise-separable blocks of MobileNet V1: [output channels, stride]. */
const V1_BLOCKS: readonly (readonly [number, number])[] = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

export function buildMobileNetV1(o: MobileNetOptions): GraphBuilder {
  const g = new GraphBuilder(o.seed);
  const eps = 1e-3;
  // Keras: int(filters * alpha); at least one channel so tiny multipliers still build.
  const width = (c: number) => Math.max(1, Math.floor(c * o.widthMultiplier));
  const convBnRelu = (x: FeatureMap, name: string, out: number, kernel: number, stride: number, groups = 1) => {
    const c = g.conv(x, `${name}.conv`, { out, kernel, stride, groups });
    return g.relu(g.batchNorm(c, `${name}.bn`, eps), `${name}.relu`);
  };

  let x = g.input('input', 3, o.inputSize);
  x = convBnRelu(x, 'conv1', width(32), 3, 2);
  V1_BLOCKS.forEach(([out, stride], i) => {
    const name = `block${i + 1}`;
    x = convBnRelu(x, `${name}.dw`, x.channels, 3, stride, x.channels);
    x = convBnRelu(x, `${name}.pw`, width(out), 1, 1);
  });
  x = g.globalAvgPoolFlat(x, 'avgpool');
  g.output(g.gemm(x, 'fc', CLASSES), 'logits');
  return g;
}

/** torchvision's _make_divisible: round to the nearest multiple of 8, never more than 10% down. */
export function makeDivisible(v: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

/** Inverted residual stages of MobileNet V2: [expansion t, output channels c, repeats n, first stride s]. */
const V2_STAGES: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export function buildMobileNetV2(o: MobileNetOptions): GraphBuilder {
  const g = new GraphBuilder(o.seed);
  const convBnRelu6 = (x: FeatureMap, name: string, out: number, kernel: number, stride = 1, groups = 1) => {
    const c = g.conv(x, `${name}.conv`, { out, kernel, stride, groups });
    return g.relu6(g.batchNorm(c, `${name}.bn`), `${name}.relu6`);
  };

  let x = g.input('input', 3, o.inputSize);
  x = convBnRelu6(x, 'features.0', makeDivisible(32 * o.widthMultiplier), 3, 2);
  let block = 1;
  for (const [t, c, n, s] of V2_STAGES) {
    const out = makeDivisible(c * o.widthMultiplier);
    for (let i = 0; i < n; i++, block++) {
      const name = `features.${block}`;
      const stride = i === 0 ? s : 1;
      let y = x;
      if (t !== 1) y = convBnRelu6(y, `${name}.expand`, x.channels * t, 1);
      y = convBnRelu6(y, `${name}.dw`, y.channels, 3, stride, y.channels);
      // Linear bottleneck: no activation. A residual branch starts damped so depth does not blow up the scale.
      const residual = stride === 1 && x.channels === out;
      y = g.batchNorm(
        g.conv(y, `${name}.project.conv`, { out, kernel: 1, gain: 1 }),
        `${name}.project.bn`,
        1e-5,
        residual ? 0.5 : 1,
      );
      x = residual ? g.add(x, y, `${name}.add`) : y;
    }
  }
  x = convBnRelu6(x, `features.${block}`, makeDivisible(1280 * Math.max(1, o.widthMultiplier)), 1);
  x = g.globalAvgPoolFlat(x, 'avgpool');
  g.output(g.gemm(x, 'classifier', CLASSES), 'logits');
  return g;
}
