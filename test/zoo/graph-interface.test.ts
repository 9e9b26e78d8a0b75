import assert from 'node:assert/strict';
import { test } from 'node:test';

import onnxProto from 'onnx-proto';

import { ZOO_NAMES, buildZooModel, zooArchitecture } from '../../src/zoo/index.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** [dim_param or dim_value, ...] of a graph input or output. */
function dims(info: onnxProto.onnx.IValueInfoProto): (string | number)[] {
  return info.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
}

for (const name of ZOO_NAMES) {
  test(`${name} takes input [N, 3, S, S] and returns logits [N, 1000], float32, opset 13, no softmax`, () => {
    const size = zooArchitecture(name).minInputSize;
    const model = onnx.ModelProto.decode(buildZooModel(name, { inputSize: size }).bytes);
    assert.deepEqual(
      model.opsetImport.map((o) => [o.domain, Number(o.version)]),
      [['', 13]],
    );
    // decode() builds message instances, whose repeated fields are always arrays.
    const graph = model.graph as onnxProto.onnx.GraphProto;
    assert.deepEqual(
      graph.input.map((i) => i.name),
      ['input'],
    );
    assert.deepEqual(
      graph.output.map((o) => o.name),
      ['logits'],
    );
    assert.deepEqual(dims(graph.input[0]!), ['N', 3, size, size]);
    assert.deepEqual(dims(graph.output[0]!), ['N', 1000]);
    assert.equal(graph.input[0]!.type!.tensorType!.elemType, FLOAT);
    assert.equal(graph.output[0]!.type!.tensorType!.elemType, FLOAT);
    const ops = new Set(graph.node.map((n) => n.opType));
    assert.ok(!ops.has('Softmax'), `${name} ends in a softmax`);
    assert.ok(ops.has('Conv') && ops.has('GlobalAveragePool'), `${name}: ops ${[...ops].join(', ')}`);
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    assert.equal(meta.zoo_architecture, name);
  });
}

test('each family has its characteristic layers', () => {
  const opsOf = (n: (typeof ZOO_NAMES)[number]) => {
    const bytes = buildZooModel(n, { inputSize: zooArchitecture(n).minInputSize }).bytes;
    return (onnx.ModelProto.decode(bytes).graph as onnxProto.onnx.GraphProto).node;
  };
  const count = (nodes: onnxProto.onnx.INodeProto[], op: string) => nodes.filter((n) => n.opType === op).length;
  const depthwise = (nodes: onnxProto.onnx.INodeProto[]) =>
    nodes.filter((n) => n.opType === 'Conv' && n.attribute!.some((a) => a.name === 'group' && Number(a.i) > 1)).length;

  assert.equal(depthwise(opsOf('mobilenet_v1')), 13);
  const v2 = opsOf('mobilenet_v2');
  assert.equal(depthwise(v2), 17);
  assert.equal(count(v2, 'Add'), 10); // inverted residuals with identity shortcuts
  assert.ok(count(v2, 'Clip') > 0); // ReLU6
  assert.equal(count(opsOf('resnet18'), 'Add'), 8);
  assert.equal(count(opsOf('resnet50'), 'Add'), 16);
  assert.equal(count(opsOf('squeezenet1_1'), 'Concat'), 8); // fire modules
  assert.equal(count(opsOf('inception_v3'), 'Concat'), 11 + 4); // 11 blocks + the split 1x3/3x1 banks of 2 InceptionE
});
