import assert from 'node:assert/strict';
import { test } from 'node:test';

import onnxProto from 'onnx-proto';

import { ZOO_NAMES, type ZooName, buildZooModel } from '../../src/zoo/index.js';

const { onnx } = onnxProto;

/** Trainable parameters of the reference implementations (BN running statistics not counted). */
const PUBLISHED: Record<ZooName, number> = {
  mobilenet_v1: 4_231_976, // Keras applications MobileNet, alpha 1.0
  mobilenet_v2: 3_504_872, // torchvision
  resnet18: 11_689_512, // torchvision
  resnet50: 25_557_032, // torchvision
  squeezenet1_1: 1_235_496, // torchvision
  inception_v3: 23_834_568, // torchvision, without the auxiliary classifier
};

const smallest = (name: ZooName) => (name === 'inception_v3' ? 75 : 32);

/** Counts from the serialized graph: every initializer except BN running stats and Clip bounds. */
function countFromBytes(bytes: Uint8Array): number {
  const model = onnx.ModelProto.decode(bytes);
  let count = 0;
  for (const t of (model.graph as onnxProto.onnx.GraphProto).initializer) {
    if (/running_(mean|var)$|^relu6\./.test(t.name ?? '')) continue;
    count += (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  }
  return count;
}

for (const name of ZOO_NAMES) {
  test(`${name} has within 0.5% of its published parameter count`, () => {
    const model = buildZooModel(name, { inputSize: smallest(name) });
    const published = PUBLISHED[name];
    assert.equal(model.publishedParameterCount, published);
    assert.equal(model.parameterCount, countFromBytes(model.bytes), 'reported count differs from the initializers');
    const relative = Math.abs(model.parameterCount / published - 1);
    assert.ok(
      relative <= 0.005,
      `${name}: ${model.parameterCount} vs published ${published} (${(relative * 100).toFixed(3)}%)`,
    );
  });
}

test('the parameter count does not depend on the input size', () => {
  for (const name of ['mobilenet_v2', 'squeezenet1_1'] as const) {
    assert.equal(
      buildZooModel(name, { inputSize: 32 }).parameterCount,
      buildZooModel(name, { inputSize: 96 }).parameterCount,
    );
  }
});

test('a width multiplier below 1 shrinks the mobilenets and above 1 grows them', () => {
  for (const name of ['mobilenet_v1', 'mobilenet_v2'] as const) {
    const base = buildZooModel(name, { inputSize: 32 }).parameterCount;
    const half = buildZooModel(name, { inputSize: 32, widthMultiplier: 0.5 });
    const wide = buildZooModel(name, { inputSize: 32, widthMultiplier: 1.4 });
    assert.ok(half.parameterCount < base * 0.6, `${name} at 0.5: ${half.parameterCount} vs ${base}`);
    assert.ok(wide.parameterCount > base * 1.3, `${name} at 1.4: ${wide.parameterCount} vs ${base}`);
    assert.equal(half.options.widthMultiplier, 0.5);
  }
});
