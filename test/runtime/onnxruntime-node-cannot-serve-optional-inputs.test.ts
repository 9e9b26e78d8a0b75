/**
 * Why config.pbtxt's `optional: true` is refused (repository/triton-config.ts): what onnxruntime-node
 * does with the two kinds of input an ONNX file has. If this test starts failing, the binding has
 * changed and optional inputs may become servable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';

const { onnx } = onnxProto;

/** y = x + bias, where bias is a graph input with a default (an overridable initializer). */
function modelWithDefaultedInput(): Uint8Array {
  const shape = (dim: { dimParam?: string; dimValue?: number }[]) => ({ tensorType: { elemType: 1, shape: { dim } } });
  return onnx.ModelProto.encode({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'defaulted',
      node: [{ opType: 'Add', input: ['x', 'bias'], output: ['y'] }],
      input: [
        { name: 'x', type: shape([{ dimParam: 'N' }, { dimValue: 2 }]) },
        { name: 'bias', type: shape([{ dimValue: 2 }]) },
      ],
      initializer: [{ name: 'bias', dataType: 1, dims: [2], floatData: [10, 20] }],
      output: [{ name: 'y', type: shape([{ dimParam: 'N' }, { dimValue: 2 }]) }],
    },
  }).finish();
}

test('onnxruntime-node: every listed input is required; a value sent for a defaulted input is ignored', async () => {
  const session = await ort.InferenceSession.create(modelWithDefaultedInput(), { logSeverityLevel: 3 });
  try {
    assert.deepEqual(session.inputNames, ['x'], 'the defaulted input is not listed');
    const x = new ort.Tensor('float32', new Float32Array([1, 2]), [1, 2]);
    await assert.rejects(session.run({}), /input 'x' is missing in 'feeds'/);
    assert.deepEqual([...(await session.run({ x })).y.data], [11, 22]);
    const bias = new ort.Tensor('float32', new Float32Array([100, 200]), [2]);
    assert.deepEqual([...(await session.run({ x, bias })).y.data], [11, 22], 'the sent bias changed nothing');
  } finally {
    await session.release();
  }
});
