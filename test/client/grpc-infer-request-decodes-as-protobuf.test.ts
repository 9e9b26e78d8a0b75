import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadInferenceService } from '../../src/protocol/grpc-proto.js';
import { inferRequestEncoder } from '../../src/client/grpc-infer-request.js';

const method = loadInferenceService().service.ModelInfer;
const serialize = method.requestSerialize as (m: unknown) => Buffer;
const deserialize = method.requestDeserialize as (b: Buffer) => {
  model_name: string;
  id: string;
  inputs: { name: string; shape: string[] }[];
  raw_input_contents: Buffer[];
};

test('the pooled ModelInfer encoder gives the bytes protobufjs decodes as the same request', () => {
  const encoder = inferRequestEncoder(serialize);
  const message = {
    model_name: 'm',
    model_version: '',
    id: 'r1',
    parameters: { timeout: { int64_param: 5 } },
    inputs: [
      { name: 'a', datatype: 'FP32', shape: [1, 3, 224, 224] },
      { name: 'b', datatype: 'UINT8', shape: [1] },
      { name: 'c', datatype: 'INT8', shape: [200] },
    ],
    outputs: [{ name: 'y', parameters: {} }],
  };
  // Lengths whose varints take 3, 1 and 2 bytes.
  const raw = [Buffer.alloc(602112, 7), Buffer.from([9]), Buffer.alloc(200, 3)];
  const encoded = encoder.encode(message, raw);
  assert.deepEqual(encoded, serialize({ ...message, raw_input_contents: raw }), 'the same bytes protobufjs writes');
  const back = deserialize(encoded);
  assert.equal(back.model_name, 'm');
  assert.equal(back.id, 'r1');
  assert.deepEqual(
    back.inputs.map((i) => i.name),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    back.raw_input_contents.map((r) => [r.length, r[0], r[r.length - 1]]),
    [
      [602112, 7, 7],
      [1, 9, 9],
      [200, 3, 3],
    ],
  );

  // A released buffer is reused for the next request of the same size, and holds that request.
  encoder.release(encoded);
  const again = encoder.encode({ ...message, id: 'r2' }, [
    Buffer.alloc(602112, 1),
    Buffer.from([2]),
    Buffer.alloc(200, 4),
  ]);
  assert.equal(again.buffer, encoded.buffer, 'the pooled buffer is reused');
  assert.equal(deserialize(again).id, 'r2');
  assert.deepEqual(
    deserialize(again).raw_input_contents.map((r) => r[0]),
    [1, 2, 4],
  );
});
