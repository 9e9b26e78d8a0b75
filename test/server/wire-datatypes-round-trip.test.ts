import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensorFromRaw, tensorFromValues, tensorToRaw, tensorToValues } from '../../src/protocol/tensor-wire.js';
import type { DataType } from '../../src/tensor.js';

const samples: [DataType, unknown[], string][] = [
  ['BOOL', [true, false, true, true], 'Uint8Array'],
  ['UINT8', [0, 255, 7, 1], 'Uint8Array'],
  ['UINT16', [0, 65535, 7, 1], 'Uint16Array'],
  ['UINT32', [0, 4294967295, 7, 1], 'Uint32Array'],
  ['UINT64', [0, 9007199254740991, 7, 1], 'BigUint64Array'],
  ['INT8', [-128, 127, 0, -1], 'Int8Array'],
  ['INT16', [-32768, 32767, 0, -1], 'Int16Array'],
  ['INT32', [-2147483648, 2147483647, 0, -1], 'Int32Array'],
  ['INT64', [-9007199254740991, 9007199254740991, 0, -1], 'BigInt64Array'],
  ['FP32', [0.5, -1.25, 3, 1e-3], 'Float32Array'],
  ['FP64', [0.1, -1e300, 3, 1e-300], 'Float64Array'],
  ['BYTES', ['', 'héllo', 'a:b', '∑'], 'Array'],
];

for (const [dt, values, type] of samples) {
  test(`${dt} survives JSON values → tensor → raw bytes → tensor → JSON values unchanged`, () => {
    const t = tensorFromValues(dt, [2, 2], values, 'input "t"');
    assert.equal(t.data.constructor.name, type);
    const back = tensorFromRaw(dt, [2, 2], tensorToRaw(t), 'input "t"');
    const out = tensorToValues(back);
    if (dt === 'FP32') assert.deepEqual(out, Array.from(new Float32Array(values as number[])));
    else assert.deepEqual(out, values);
  });
}

test('values out of range for the datatype are refused naming the element', () => {
  assert.throws(
    () => tensorFromValues('UINT8', [2], [1, 256], 'input "u"'),
    /input "u": element 1 is 256, expected an integer from 0 to 255 for UINT8/,
  );
  assert.throws(() => tensorFromValues('INT32', [1], [1.5], 'input "i"'), /element 0 is 1.5, expected an integer/);
  assert.throws(
    () => tensorFromValues('BOOL', [1], ['yes'], 'input "b"'),
    /element 0 is "yes", expected true or false for BOOL/,
  );
  assert.throws(() => tensorFromValues('BYTES', [1], [3], 'input "s"'), /element 0 is 3, expected a string for BYTES/);
  assert.throws(() => tensorFromValues('FP16', [1], [1], 'input "h"'), /FP16 has no JSON or typed form/);
});

test('FP16 travels as raw bytes and is shown as numbers in JSON', () => {
  const t = tensorFromRaw('FP16', [3], Buffer.from(new Uint16Array([0x3c00, 0xc000, 0x3800]).buffer), 'input "h"');
  assert.deepEqual(tensorToValues(t), [1, -2, 0.5]);
});

test('BYTES raw data whose length prefixes lie is refused', () => {
  const buf = Buffer.from([5, 0, 0, 0, 65, 66]);
  assert.throws(
    () => tensorFromRaw('BYTES', [1], buf, 'input "s"'),
    /input "s": BYTES element at byte 0 says 5 bytes, but only 2 are left/,
  );
});
