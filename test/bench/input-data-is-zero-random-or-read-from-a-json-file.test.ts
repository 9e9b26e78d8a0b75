import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInputSource, parseInputData, type TargetModel } from '../../src/bench/index.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

const model: TargetModel = {
  name: 'm',
  maxBatchSize: 8,
  inputs: [
    { name: 'x', datatype: 'FP32', dims: [2] },
    { name: 'k', datatype: 'INT64', dims: [1] },
  ],
};

test('zero and seeded random inputs have the batch shape, and random ones differ between requests', async () => {
  const zero = await createInputSource(model, { kind: 'zero' }, 3);
  const z = zero.next();
  assert.deepEqual(z.x.shape, [3, 2]);
  assert.deepEqual([...(z.x.data as Float32Array)], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(z.k.shape, [3, 1]);
  const random = await createInputSource(model, { kind: 'random', seed: 5 }, 2);
  const a = random.next().x.data as Float32Array;
  const b = random.next().x.data as Float32Array;
  assert.notDeepEqual([...a], [...b]);
  assert.ok([...a].every((v) => v >= -1 && v < 1));
  assert.deepEqual(
    [...((await createInputSource(model, { kind: 'random', seed: 5 }, 2)).next().x.data as Float32Array)],
    [...a],
  );
});

test("a JSON file in perf_analyzer's format is stacked into batches, cycling through its entries", async () => {
  const dir = await tempDir('tenancy-bench-inputs-');
  const file = path.join(dir, 'data.json');
  await writeFile(
    file,
    JSON.stringify({
      data: [
        { x: [1, 2], k: [7] },
        { x: { content: [3, 4], shape: [2] }, k: [8] },
        { x: [5, 6], k: [9] },
      ],
    }),
  );
  try {
    const src = await createInputSource(model, parseInputData(file), 2);
    const first = src.next();
    assert.deepEqual([...(first.x.data as Float32Array)], [1, 2, 3, 4]);
    assert.deepEqual([...(first.k.data as BigInt64Array)], [7n, 8n]);
    assert.deepEqual([...(src.next().x.data as Float32Array)], [5, 6, 1, 2]);
    await writeFile(file, JSON.stringify({ data: [{ x: [1, 2, 3], k: [1] }] }));
    await assert.rejects(
      createInputSource(model, { kind: 'file', path: file }),
      /input data for "x" of model "m" has 3 values, but shape \[2\] needs 2/,
    );
    await writeFile(file, JSON.stringify({ data: [{ x: [1, 2] }] }));
    await assert.rejects(
      createInputSource(model, { kind: 'file', path: file }),
      /data\[0\] has no values for input "k"/,
    );
  } finally {
    await removeDir(dir);
  }
});

test('bad batch sizes, dynamic dims without a shape and unknown data kinds are refused naming the value', async () => {
  await assert.rejects(
    createInputSource(model, { kind: 'zero' }, 9),
    /batch size 9 exceeds model "m"'s max_batch_size 8/,
  );
  await assert.rejects(
    createInputSource({ ...model, maxBatchSize: 0 }, { kind: 'zero' }, 2),
    /takes no batch dimension \(max_batch_size 0\), so batch size 2/,
  );
  const dynamic: TargetModel = {
    name: 'd',
    maxBatchSize: 0,
    inputs: [{ name: 'img', datatype: 'FP32', dims: [3, -1, -1] }],
  };
  await assert.rejects(
    createInputSource(dynamic, { kind: 'zero' }),
    /input "img" of model "d" has dynamic dims \[3, -1, -1\]: give its shape, e.g. --shape img:3,1,1/,
  );
  assert.deepEqual(
    (await createInputSource(dynamic, { kind: 'zero' }, 1, { img: [3, 4, 5] })).next().img.shape,
    [3, 4, 5],
  );
  assert.throws(
    () => parseInputData('ones'),
    /input data must be "zero", "random" or a path ending in .json, got "ones"/,
  );
});
