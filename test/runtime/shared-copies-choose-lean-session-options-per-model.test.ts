import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelInstance, type SessionOptions } from '../../src/runtime/index.js';
import { ortSessionOptions, SHARED_WEIGHTS_DATA } from '../../src/runtime/ort-session.js';
import {
  type GraphTraits,
  leanSessionDefaults,
  NO_MEM_PATTERN_BYTES_PER_NODE,
  WEIGHTS_DATA,
  withLeanDefaults,
} from '../../src/runtime/shared-weights.js';
import { buildZooModel } from '../../src/zoo/index.js';
import type { Tensor, TensorMap } from '../../src/tensor.js';
import { Engine } from '../../src/engine/index.js';
import { classifierInput, classifierRepo, removeDir, tempDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

const base: SessionOptions = { intraOpThreads: 1, interOpThreads: 1, spinning: false, executionProviders: ['cpu'] };
const KiB = 1024;

test('lean defaults follow the graph: a CNN classifier head loses prepacking, heavy nodes the memory pattern', () => {
  const cases: [string, GraphTraits, { prepacking?: false; memPattern?: false }][] = [
    // The shared copies of the measured models (docs/memory.md), as graphTraits reads them.
    [
      'ResNet-50',
      { nodes: 58, weightBytes: 102_134_784, convs: 53, weightGemms: 1 },
      { prepacking: false, memPattern: false },
    ],
    [
      'MobileNet V2',
      { nodes: 56, weightBytes: 13_962_976, convs: 52, weightGemms: 1 },
      { prepacking: false, memPattern: false },
    ],
    // Small: its packed head is tiny, and prepacking off made batched answers differ in the last bit.
    ['text orientation', { nodes: 235, weightBytes: 556_288, convs: 53, weightGemms: 1 }, {}],
    [
      'a transformer: MatMuls are the model',
      { nodes: 900, weightBytes: 400e6, convs: 0, weightGemms: 96 },
      { memPattern: false },
    ],
    ['a CNN with a GEMM body', { nodes: 40, weightBytes: 1e6, convs: 4, weightGemms: 3 }, {}],
    ['no GEMM weights: nothing is repacked', { nodes: 10, weightBytes: 0, convs: 10, weightGemms: 0 }, {}],
    [
      'just under the per-node bound',
      { nodes: 10, weightBytes: 10 * NO_MEM_PATTERN_BYTES_PER_NODE - 1, convs: 0, weightGemms: 0 },
      {},
    ],
    ['an empty graph', { nodes: 0, weightBytes: 0, convs: 0, weightGemms: 0 }, {}],
  ];
  for (const [name, traits, expected] of cases) {
    const { why, ...chosen } = leanSessionDefaults(traits);
    assert.deepEqual(chosen, expected, name);
    assert.equal(why.length, Object.keys(expected).length, `${name}: one reason per choice`);
  }
  assert.equal(NO_MEM_PATTERN_BYTES_PER_NODE, 64 * KiB);
});

test("what an instance's options state wins over the copy's defaults", () => {
  const lean = { prepacking: false as const, memPattern: false as const, why: [] };
  assert.deepEqual(withLeanDefaults(base, lean), { ...base, preoptimized: true, prepacking: false, memPattern: false });
  const stated = withLeanDefaults({ ...base, prepacking: true, memPattern: true }, lean);
  assert.equal(stated.prepacking, true);
  assert.equal(stated.memPattern, true);
  const none = withLeanDefaults(base, { why: [] });
  assert.equal(none.prepacking, undefined, "no choice: ONNX Runtime's default");
  assert.equal(none.memPattern, undefined);
});

test('ONNX Runtime gets the options as chosen', () => {
  const lean = ortSessionOptions({ ...base, preoptimized: true, prepacking: false, memPattern: false });
  assert.equal(lean.enableMemPattern, false);
  assert.equal((lean.extra as { session: Record<string, unknown> }).session.disable_prepacking, '1');
  assert.equal(lean.graphOptimizationLevel, 'disabled', 'a shared copy is optimized already');
  assert.equal(lean.intraOpNumThreads, 1);
  const defaults = ortSessionOptions(base);
  assert.ok(!('enableMemPattern' in defaults) && !('enableCpuMemArena' in defaults), "ONNX Runtime's own defaults");
  const session = (defaults.extra as { session: Record<string, unknown> }).session;
  assert.ok(!('disable_prepacking' in session));
  assert.deepEqual(session.intra_op, { allow_spinning: '0' });
  assert.equal(defaults.graphOptimizationLevel, 'all');
  assert.equal(ortSessionOptions({ ...base, memArena: false }).enableCpuMemArena, false);
  assert.equal(WEIGHTS_DATA, SHARED_WEIGHTS_DATA, 'the traits read the file that the writer writes');
});

function instance(file: string, session: Partial<SessionOptions>, name: string): ModelInstance {
  return new ModelInstance({ name, file, warmup: [], session: { ...base, ...session } });
}

/** Equal to float rounding: a GEMM without prepacking sums in another order (~1e-7 here). */
function assertClose(actual: Tensor, expected: Tensor, message: string): void {
  const [x, y] = [actual.data as Float32Array, expected.data as Float32Array];
  assert.deepEqual(actual.shape, expected.shape, message);
  let diff = 0;
  for (let i = 0; i < y.length; i++) diff = Math.max(diff, Math.abs(x[i] - y[i]));
  assert.ok(diff <= 1e-5, `${message}: max abs difference ${diff}`);
  assert.ok(new Set(x).size > 1, `${message}: outputs are not constant`);
}

async function compare(file: string, input: TensorMap, expected: { prepacking?: boolean; memPattern?: boolean }) {
  const lean = instance(file, { shareWeights: true }, 'lean');
  const ortDefaults = instance(file, { shareWeights: true, prepacking: true, memPattern: true }, 'ort-defaults');
  const allOff = instance(file, { shareWeights: true, prepacking: false, memPattern: false, memArena: false }, 'off');
  const own = instance(file, { shareWeights: false }, 'private');
  const all = [lean, ortDefaults, allOff, own];
  try {
    await Promise.all(all.map((i) => i.start()));
    assert.equal(lean.weights, 'shared', lean.weightsNote);
    assert.equal(lean.sessionOptions.prepacking, expected.prepacking, 'prepacking as chosen for the model');
    assert.equal(lean.sessionOptions.memPattern, expected.memPattern, 'memory pattern as chosen for the model');
    assert.equal(ortDefaults.sessionOptions.prepacking, true, 'stated options are kept');
    const reference = Object.values((await own.run(input)).outputs)[0];
    for (const i of [lean, ortDefaults, allOff])
      assertClose(Object.values((await i.run(input)).outputs)[0], reference, `${i.name} vs the private session`);
  } finally {
    await Promise.all(all.map((i) => i.stop()));
  }
}

test('a small CNN with a big classifier (MobileNet V2): both off, same answers with options on or off', async () => {
  const dir = await tempDir();
  try {
    const file = path.join(dir, 'model.onnx');
    await writeFile(file, buildZooModel('mobilenet_v2', { inputSize: 32, widthMultiplier: 0.5, seed: 3 }).bytes);
    const data = new Float32Array(2 * 3 * 32 * 32).map((_, i) => Math.sin(i));
    await compare(
      file,
      { input: { datatype: 'FP32', shape: [2, 3, 32, 32], data } },
      {
        prepacking: false,
        memPattern: false,
      },
    );
  } finally {
    await removeDir(dir);
  }
});

test('the text-orientation classifier keeps prepacking and its memory pattern (small, light nodes)', async () => {
  const repo = await classifierRepo();
  try {
    const file = path.join(repo, TEXT_ORIENTATION, '1', 'model.onnx');
    await compare(file, { x: classifierInput(2, 5) }, { prepacking: undefined, memPattern: undefined });
  } finally {
    await removeDir(repo);
  }
});

test('a config turns prepacking and the memory pattern on: enable_prepacking, enable_mem_pattern "1"', async () => {
  const repo = await tempDir();
  const engine = new Engine({ repository: repo, cores: 2 });
  try {
    const bytes = buildZooModel('mobilenet_v2', { inputSize: 32, widthMultiplier: 0.5, seed: 3 }).bytes;
    const on = { enable_prepacking: { string_value: '1' }, enable_mem_pattern: { string_value: 'true' } };
    for (const [name, parameters] of [
      ['lean', {}],
      ['ort_defaults', on],
    ] as const) {
      await mkdir(path.join(repo, name, '1'), { recursive: true });
      await writeFile(path.join(repo, name, '1', 'model.onnx'), bytes);
      await writeFile(path.join(repo, name, 'config.json'), JSON.stringify({ name, parameters }));
    }
    await engine.loadAll();
    const options = (name: string) => engine.model(name).instances[0].sessionOptions;
    assert.deepEqual([options('lean').prepacking, options('lean').memPattern], [false, false], 'the lean choice');
    assert.deepEqual([options('ort_defaults').prepacking, options('ort_defaults').memPattern], [true, true]);
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});
