/**
 * Inception V3 (Szegedy et al. 2016), as in torchvision without the auxiliary classifier (which
 * only serves training): a stem of unpadded 3x3 convs and max pools, three InceptionA, one
 * InceptionB (grid reduction), four InceptionC (factorized 1x7/7x1), one InceptionD (reduction),
 * two InceptionE (expanded 1x3/3x1 filter banks), global average pool, FC to 1000 classes. Every
 * conv is BasicConv2d: conv without bias, BN with eps 1e-3, ReLU.
 *
 * Minimum input size: 75x75. The unpadded stride chain (3x3/2, 3x3, pool 3x3/2, 3x3, pool 3x3/2,
 * then the 3x3/2 reductions of InceptionB and InceptionD) maps 75 to 37, 35, 17, 15, 7, 3 and 1;
 * at 74 InceptionD's 3x3 window no longer fits a 2x2 map.
 */
import { GraphBuilder, type FeatureMap } from './graph-builder.js';

export interface InceptionOptions {
  inputSize: number;
  seed: number;
}

/** The smallest input side the stride chain admits (see above). */
export const INCEPTION_V3_MIN_INPUT = 75;

const CLASSES = 1000;

type Pair = number | readonly [number, number];

export function buildInceptionV3(o: InceptionOptions): GraphBuilder {
  const g = new GraphBuilder(o.seed);
  /** BasicConv2d; pad defaults to 0 as in torchvision, "same" padding is passed explicitly. */
  const conv = (x: FeatureMap, name: string, out: number, kernel: Pair, opts: { stride?: number; pad?: Pair } = {}) => {
    const c = g.conv(x, `${name}.conv`, { out, kernel, stride: opts.stride ?? 1, pad: opts.pad ?? 0 });
    return g.relu(g.batchNorm(c, `${name}.bn`, 1e-3), `${name}.relu`);
  };
  const same = (kernel: Pair): Pair =>
    typeof kernel === 'number' ? Math.floor(kernel / 2) : [Math.floor(kernel[0] / 2), Math.floor(kernel[1] / 2)];
  /** A chain of "same"-padded BasicConv2d layers: [out, kernel] each. */
  const chain = (x: FeatureMap, name: string, layers: readonly (readonly [number, Pair])[]) =>
    layers.reduce((y, [out, k], i) => conv(y, `${name}_${i + 1}`, out, k, { pad: same(k) }), x);
  const avgBranch = (x: FeatureMap, name: string, out: number) =>
    conv(g.avgPool(x, `${name}.avgpool`, { kernel: 3, stride: 1, pad: 1 }), `${name}`, out, 1);
  const maxPool = (x: FeatureMap, name: string) => g.maxPool(x, name, { kernel: 3, stride: 2 });

  const inceptionA = (x: FeatureMap, name: string, poolFeatures: number) =>
    g.concat(
      [
        conv(x, `${name}.branch1x1`, 64, 1),
        chain(x, `${name}.branch5x5`, [
          [48, 1],
          [64, 5],
        ]),
        chain(x, `${name}.branch3x3dbl`, [
          [64, 1],
          [96, 3],
          [96, 3],
        ]),
        avgBranch(x, `${name}.branch_pool`, poolFeatures),
      ],
      name,
    );

  const inceptionB = (x: FeatureMap, name: string) =>
    g.concat(
      [
        conv(x, `${name}.branch3x3`, 384, 3, { stride: 2 }),
        conv(
          chain(x, `${name}.branch3x3dbl`, [
            [64, 1],
            [96, 3],
          ]),
          `${name}.branch3x3dbl_3`,
          96,
          3,
          { stride: 2 },
        ),
        maxPool(x, `${name}.branch_pool`),
      ],
      name,
    );

  const inceptionC = (x: FeatureMap, name: string, c7: number) =>
    g.concat(
      [
        conv(x, `${name}.branch1x1`, 192, 1),
        chain(x, `${name}.branch7x7`, [
          [c7, 1],
          [c7, [1, 7]],
          [192, [7, 1]],
        ]),
        chain(x, `${name}.branch7x7dbl`, [
          [c7, 1],
          [c7, [7, 1]],
          [c7, [1, 7]],
          [c7, [7, 1]],
          [192, [1, 7]],
        ]),
        avgBranch(x, `${name}.branch_pool`, 192),
      ],
      name,
    );

  const inceptionD = (x: FeatureMap, name: string) =>
    g.concat(
      [
        conv(conv(x, `${name}.branch3x3_1`, 192, 1), `${name}.branch3x3_2`, 320, 3, { stride: 2 }),
        conv(
          chain(x, `${name}.branch7x7x3`, [
            [192, 1],
            [192, [1, 7]],
            [192, [7, 1]],
          ]),
          `${name}.branch7x7x3_4`,
          192,
          3,
          { stride: 2 },
        ),
        maxPool(x, `${name}.branch_pool`),
      ],
      name,
    );

  /** A 1x3 and a 3x1 conv side by side on the same input, concatenated. */
  const split = (x: FeatureMap, name: string) =>
    g.concat(
      [conv(x, `${name}a`, 384, [1, 3], { pad: [0, 1] }), conv(x, `${name}b`, 384, [3, 1], { pad: [1, 0] })],
      `${name}.concat`,
    );

  const inceptionE = (x: FeatureMap, name: string) =>
    g.concat(
      [
        conv(x, `${name}.branch1x1`, 320, 1),
        split(conv(x, `${name}.branch3x3_1`, 384, 1), `${name}.branch3x3_2`),
        split(
          chain(x, `${name}.branch3x3dbl`, [
            [448, 1],
            [384, 3],
          ]),
          `${name}.branch3x3dbl_3`,
        ),
        avgBranch(x, `${name}.branch_pool`, 192),
      ],
      name,
    );

  let x = g.input('input', 3, o.inputSize);
  x = conv(x, 'Conv2d_1a_3x3', 32, 3, { stride: 2 });
  x = conv(x, 'Conv2d_2a_3x3', 32, 3);
  x = conv(x, 'Conv2d_2b_3x3', 64, 3, { pad: 1 });
  x = maxPool(x, 'maxpool1');
  x = conv(x, 'Conv2d_3b_1x1', 80, 1);
  x = conv(x, 'Conv2d_4a_3x3', 192, 3);
  x = maxPool(x, 'maxpool2');
  x = inceptionA(x, 'Mixed_5b', 32);
  x = inceptionA(x, 'Mixed_5c', 64);
  x = inceptionA(x, 'Mixed_5d', 64);
  x = inceptionB(x, 'Mixed_6a');
  x = inceptionC(x, 'Mixed_6b', 128);
  x = inceptionC(x, 'Mixed_6c', 160);
  x = inceptionC(x, 'Mixed_6d', 160);
  x = inceptionC(x, 'Mixed_6e', 192);
  x = inceptionD(x, 'Mixed_7a');
  x = inceptionE(x, 'Mixed_7b');
  x = inceptionE(x, 'Mixed_7c');
  x = g.globalAvgPoolFlat(x, 'avgpool');
  g.output(g.gemm(x, 'fc', CLASSES), 'logits');
  return g;
}
