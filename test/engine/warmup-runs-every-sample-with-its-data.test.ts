import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Engine } from '../../src/index.js';
import { readModelDefinition, WARMUP_FOLDER } from '../../src/repository/index.js';
import { warmupRuns } from '../../src/engine/warmup.js';
import { buildInputTable } from '../../src/engine/validate.js';
import { classifierRepo, patchConfig, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

const ROW = 3 * 48 * 192;

/** Two samples: a file's row repeated for batch 2, then random data of batch 1 run twice. */
const SAMPLES = [
  {
    name: 'from_file',
    batch_size: 2,
    inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 48, 192], input_data_file: 'x.raw' } },
  },
  { name: 'random', count: 2, inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 48, 192], random_data: true } } },
];

async function withWarmupFile(repo: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.join(repo, TEXT_ORIENTATION, WARMUP_FOLDER), { recursive: true });
  await writeFile(path.join(repo, TEXT_ORIENTATION, WARMUP_FOLDER, 'x.raw'), bytes);
}

test("every warm-up sample runs in order with its data; a file's row is repeated for batch_size", async () => {
  const repo = await classifierRepo({ model_warmup: SAMPLES });
  const row = Float32Array.from({ length: ROW }, (_, i) => (i % 7) / 7);
  await withWarmupFile(repo, new Uint8Array(row.buffer));
  try {
    const v = (await readModelDefinition(repo, TEXT_ORIENTATION)).versions[0];
    const runs = warmupRuns(v.config.model_warmup, v.warmupData, buildInputTable(v.config), null);
    assert.deepEqual(
      runs.map((r) => [r.inputs.x.shape, r.runs]),
      [
        [[2, 3, 48, 192], 1],
        [[1, 3, 48, 192], 2],
      ],
    );
    const first = runs[0].inputs.x.data as Float32Array;
    assert.deepEqual(first.subarray(0, ROW), row);
    assert.deepEqual(first.subarray(ROW), row, 'the second row is the file again');
    assert.ok(
      (runs[1].inputs.x.data as Float32Array).some((x) => x !== 0),
      'random data is not zeros',
    );
    // No samples: zeros of batch 1, twice.
    const plain = warmupRuns(undefined, [], buildInputTable(v.config), null);
    assert.deepEqual(
      plain.map((r) => [r.inputs.x.shape, r.runs]),
      [[[1, 3, 48, 192], 2]],
    );

    const engine = new Engine({ repository: repo, cores: 2 });
    await engine.loadAll();
    assert.equal(engine.model(TEXT_ORIENTATION).state, 'ready');
    await engine.close();
  } finally {
    await removeDir(repo);
  }
});

test('a warm-up file of the wrong size, or a later sample the model refuses, fails the load naming it', async () => {
  const short = await classifierRepo({ model_warmup: SAMPLES });
  await withWarmupFile(short, new Uint8Array(ROW * 4 - 4));
  // The second sample has 4 channels where the model takes 3: only running it can fail.
  const refused = await classifierRepo({
    model_warmup: [SAMPLES[1], { ...SAMPLES[1], inputs: { x: { ...SAMPLES[1].inputs.x, dims: [4, 48, 192] } } }],
  });
  const engines = [new Engine({ repository: short, cores: 2 }), new Engine({ repository: refused, cores: 2 })];
  try {
    await assert.rejects(readModelDefinition(short, TEXT_ORIENTATION), {
      code: 'INVALID_ARG',
      message: new RegExp(
        `model_warmup\\[0\\]\\.inputs\\.x\\.input_data_file holds ${ROW * 4 - 4} bytes, ` +
          `but dims \\[3, 48, 192\\] of FP32 need ${ROW * 4}`,
      ),
    });
    // The JSON form has no oneof to enforce it: the config check does.
    const both = { data_type: 'TYPE_FP32', dims: [3, 48, 192], random_data: true, input_data_file: 'x.raw' };
    await patchConfig(short, TEXT_ORIENTATION, { model_warmup: [{ inputs: { x: both } }] });
    await assert.rejects(readModelDefinition(short, TEXT_ORIENTATION), {
      message: /model_warmup\[0\]\.inputs\.x.*must have one of zero_data, random_data, input_data_file/,
    });
    for (const e of engines) await e.loadAll();
    assert.equal(engines[0].index()[0].state, 'UNAVAILABLE');
    assert.equal(engines[1].index()[0].state, 'UNAVAILABLE');
    assert.match(engines[1].index()[0].reason, /4|dimension|shape/i);
    await patchConfig(refused, TEXT_ORIENTATION, { model_warmup: [SAMPLES[1], SAMPLES[1]] });
    await engines[1].load(TEXT_ORIENTATION);
    assert.equal(engines[1].index()[0].state, 'READY', 'the same two samples with the right dims load');
  } finally {
    for (const e of engines) await e.close();
    await removeDir(short);
    await removeDir(refused);
  }
});
