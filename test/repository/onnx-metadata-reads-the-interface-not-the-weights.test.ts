import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { parseOnnxMetadata, readOnnxMetadata } from '../../src/repository/index.js';
import { textOrientationModelFile } from '../../src/default-repository.js';
import { buildZooModel } from '../../src/zoo/index.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

const { onnx } = onnxProto;

/** The same facts from a full decode of the file with onnx-proto: the reference. */
function reference(bytes: Uint8Array) {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph as onnxProto.onnx.GraphProto;
  const inits = new Set(g.initializer.map((t) => t.name));
  const tensor = (v: onnxProto.onnx.IValueInfoProto) => [
    v.name,
    v.type!.tensorType!.shape!.dim!.map((d) => (Number(d.dimValue) > 0 ? Number(d.dimValue) : -1)),
  ];
  return {
    irVersion: Number(m.irVersion),
    opsets: Object.fromEntries(m.opsetImport.map((o) => [o.domain || 'ai.onnx', Number(o.version)])),
    producer: m.producerName,
    inputs: g.input.filter((i) => !inits.has(i.name!)).map(tensor),
    outputs: g.output.map(tensor),
  };
}

test("an ONNX file's interface is read as a full decode reads it, without reading its weights", async () => {
  const dir = await tempDir();
  try {
    const resnet = path.join(dir, 'resnet50.onnx');
    await writeFile(resnet, buildZooModel('resnet50', { inputSize: 64 }).bytes);
    for (const file of [textOrientationModelFile(), resnet]) {
      const { readFile } = await import('node:fs/promises');
      const bytes = await readFile(file);
      const read = { bytes: 0 };
      const meta = await readOnnxMetadata(file, read);
      const got = {
        ...meta,
        inputs: meta.inputs.map((t) => [t.name, t.dims]),
        outputs: meta.outputs.map((t) => [t.name, t.dims]),
      };
      assert.deepEqual(got, reference(bytes), file);
      assert.deepEqual(await parseOnnxMetadata(bytes, file), meta, 'from bytes as from the file');
      const size = (await stat(file)).size;
      if (size > 50 * 2 ** 20) assert.ok(read.bytes < size / 20, `read ${read.bytes} of ${size} bytes`);
    }
    // A file cut short is refused with what is wrong, not a crash.
    const bytes = buildZooModel('resnet50', { inputSize: 64 }).bytes;
    await assert.rejects(parseOnnxMetadata(bytes.subarray(0, bytes.length - 1000), 'cut.onnx'), {
      message: /^cut\.onnx is not a valid ONNX model: .*runs past the end/,
    });
    await assert.rejects(parseOnnxMetadata(new Uint8Array([0x0f, 0x01]), 'junk.onnx'), {
      message: /^junk\.onnx is not a valid ONNX model: wire type 7/,
    });
  } finally {
    await removeDir(dir);
  }
});
