import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { Engine } from '../../src/index.js';
import { ZOO_NAMES, writeZooModel } from '../../src/zoo/index.js';
import { classifierInput, removeDir, tempDir, TEXT_ORIENTATION } from '../fixtures/repo.js';
import { writeTextOrientationModel } from '../../src/default-repository.js';

// Small input sizes keep this fast; 75 is the smallest that Inception V3's stride chain allows.
const SIZE: Record<string, number> = { inception_v3: 75 };
let repo: string;
let engine: Engine;

before(async () => {
  repo = await tempDir();
  for (const name of ZOO_NAMES) await writeZooModel(repo, name, { inputSize: SIZE[name] ?? 32, maxBatchSize: 4 });
  await writeTextOrientationModel(repo);
  engine = new Engine({ repository: repo, cores: 2 });
  await engine.loadAll();
});
after(async () => {
  await engine.close();
  await removeDir(repo);
});

function seeded(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

async function direct(file: string, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const out = await session.run(feeds);
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

for (const name of [...ZOO_NAMES, TEXT_ORIENTATION]) {
  test(`${name}: engine outputs equal a direct onnxruntime-node session's on the same input`, async () => {
    const model = engine.model(name);
    assert.equal(model.state, 'ready', `${name} loaded: ${model.reason}`);
    const spec = [...model.table.inputs.values()][0];
    const shape = [2, ...spec.dims];
    const data =
      name === TEXT_ORIENTATION
        ? (classifierInput(2, 7).data as Float32Array)
        : seeded(
            shape.reduce((a, b) => a * b, 1),
            42,
          );
    const viaEngine = await engine.infer(name, { [spec.name]: { datatype: 'FP32', shape, data } });
    const out = Object.values(viaEngine.outputs)[0];
    const expected = await direct(path.join(repo, name, '1', 'model.onnx'), {
      [spec.name]: new ort.Tensor('float32', data, shape),
    });
    assert.equal(out.data.length, expected.length);
    let maxDiff = 0;
    for (let i = 0; i < expected.length; i++)
      maxDiff = Math.max(maxDiff, Math.abs((out.data as Float32Array)[i] - expected[i]));
    assert.ok(maxDiff <= 1e-5, `max abs difference ${maxDiff}`);
    assert.ok(new Set(out.data as Float32Array).size > 1, 'outputs are not constant');
  });
}

test('statistics count requests, executions and inferences from the requests alone (warm-up excluded)', async () => {
  const before = engine.stats(TEXT_ORIENTATION)[0];
  await engine.infer(TEXT_ORIENTATION, { x: classifierInput(3) });
  const after = engine.stats(TEXT_ORIENTATION)[0];
  assert.equal(after.inference_count - before.inference_count, 3, 'a batch of 3 is 3 inferences');
  assert.equal(after.execution_count - before.execution_count, 1);
  assert.equal(after.inference_stats.success.count - before.inference_stats.success.count, 1);
  assert.ok(after.inference_stats.compute_infer.ns > before.inference_stats.compute_infer.ns);
  assert.deepEqual(
    after.batch_stats.map((b) => b.batch_size),
    [2, 3],
  );
  const untouched = engine.stats('squeezenet1_1')[0];
  assert.equal(untouched.execution_count, 1, 'the two warm-up runs of each instance are not counted');
});
