import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ModelInstance, type InstanceOptions } from '../../src/runtime/index.js';
import { SharedWeights, sharedWeights } from '../../src/runtime/shared-weights.js';
import { pino } from 'pino';
import { Engine } from '../../src/index.js';
import { buildZooModel } from '../../src/zoo/index.js';
import type { TensorMap } from '../../src/tensor.js';
import { classifierInput, classifierRepo, removeDir, tempDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

const session = (shareWeights: boolean): InstanceOptions['session'] => ({
  intraOpThreads: 1,
  interOpThreads: 1,
  spinning: false,
  executionProviders: ['cpu'],
  shareWeights,
});

function instance(file: string, shareWeights: boolean, name = 'm:1#0'): ModelInstance {
  return new ModelInstance({ name, file, session: session(shareWeights), warmup: [] });
}

/**
 * Outputs equal to float rounding: an instance of a shared copy may run its classifier's GEMM
 * without prepacking (shared-weights.ts leanSessionDefaults), which sums in another order than the
 * private session's packed GEMM (differences ~1e-7).
 */
function assertClose(actual: TensorMap, expected: TensorMap, message: string): void {
  assert.deepEqual(Object.keys(actual), Object.keys(expected), message);
  for (const [name, t] of Object.entries(expected)) {
    const got = actual[name];
    assert.deepEqual(got.shape, t.shape, message);
    const [x, y] = [got.data as Float32Array, t.data as Float32Array];
    assert.equal(x.length, y.length, message);
    for (let i = 0; i < y.length; i++) assert.ok(Math.abs(x[i] - y[i]) <= 1e-5, `${message}: ${name}[${i}]`);
  }
}

/** The files this process has memory-mapped (worker threads share the process's maps). */
const mapped = () => readFileSync('/proc/self/maps', 'utf8');

const zooInput = (): TensorMap => {
  const data = new Float32Array(3 * 32 * 32).map((_, i) => Math.sin(i));
  return { input: { datatype: 'FP32', shape: [1, 3, 32, 32], data } };
};
const zooFile = async (dir: string, seed: number) => {
  const file = path.join(dir, `model-${seed}.onnx`);
  await writeFile(file, buildZooModel('mobilenet_v2', { inputSize: 32, widthMultiplier: 0.5, seed }).bytes);
  return file;
};

test('instances sharing weights map one copy and answer exactly as a private session', async () => {
  const repo = await classifierRepo();
  const file = path.join(repo, TEXT_ORIENTATION, '1', 'model.onnx');
  const a = instance(file, true, 'a');
  const b = instance(file, true, 'b');
  const own = instance(file, false, 'own');
  try {
    await Promise.all([a.start(), b.start(), own.start()]);
    assert.equal(a.weights, 'shared', a.weightsNote);
    assert.equal(b.weights, 'shared', b.weightsNote);
    assert.equal(own.weights, 'private');
    assert.ok(a.weightsFile && a.weightsFile === b.weightsFile, 'both load the one copy, written once');
    const data = path.join(path.dirname(a.weightsFile), 'weights.bin');
    assert.ok(mapped().includes(data), 'ONNX Runtime maps the weights file instead of reading it into its heap');
    const x = { x: classifierInput(3, 7) };
    const expected = (await own.run(x)).outputs;
    for (const i of [a, b])
      assert.deepEqual((await i.run(x)).outputs, expected, `${i.name} equals the private session`);
  } finally {
    await Promise.all([a.stop(), b.stop(), own.stop()]);
    await removeDir(repo);
  }
});

test('stopping one sharing instance leaves the others serving; the copy goes with the last', async () => {
  const dir = await tempDir();
  const file = await zooFile(dir, 1);
  const [a, b, own] = [instance(file, true, 'a'), instance(file, true, 'b'), instance(file, false, 'own')];
  try {
    await Promise.all([a.start(), b.start(), own.start()]);
    const copy = a.weightsFile!;
    const expected = (await own.run(zooInput())).outputs;
    await a.stop();
    assert.equal(b.state, 'ready');
    assertClose((await b.run(zooInput())).outputs, expected, 'the other instance still serves, same answers');
    assert.ok(existsSync(copy), 'the copy stays while an instance uses it');
    await b.stop();
    assert.ok(!existsSync(path.dirname(copy)), 'the copy is deleted with its last instance');
    assert.ok(!sharedWeights.files.includes(copy));
  } finally {
    await Promise.all([a.stop(), b.stop(), own.stop()]);
    await removeDir(dir);
  }
});

test('a model file replaced by new bytes gets a new copy, and the old bytes are not kept', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'model.onnx');
  await copyFile(await zooFile(dir, 1), file);
  const old = instance(file, true, 'v1');
  let fresh: ModelInstance | undefined;
  let own: ModelInstance | undefined;
  try {
    await old.start();
    const oldCopy = old.weightsFile!;
    const before = (await old.run(zooInput())).outputs;
    await copyFile(await zooFile(dir, 2), file); // a reload with a new file under the same name
    fresh = instance(file, true, 'v2');
    own = instance(file, false, 'v2-own');
    await Promise.all([fresh.start(), own.start()]);
    assert.equal(fresh.weights, 'shared', fresh.weightsNote);
    assert.notEqual(fresh.weightsFile, oldCopy, 'new bytes, new copy');
    const after = (await fresh.run(zooInput())).outputs;
    assertClose(after, (await own.run(zooInput())).outputs, 'the new copy holds the new weights');
    assert.notDeepEqual(after, before);
    await old.stop();
    const oldDir = path.dirname(oldCopy);
    assert.ok(!existsSync(oldDir), 'the old copy is deleted');
    assert.ok(!mapped().includes(oldDir), 'and no longer mapped by any session');
    assert.ok(mapped().includes(path.dirname(fresh.weightsFile!)));
  } finally {
    await Promise.all([old.stop(), fresh?.stop(), own?.stop()]);
    await removeDir(dir);
  }
});

test('when no copy can be written the instances load private copies and the log says why', async () => {
  const repo = await classifierRepo();
  const blocker = path.join(repo, 'not-a-folder');
  await writeFile(blocker, '');
  const saved = process.env.TENANCY_WEIGHTS_DIR;
  process.env.TENANCY_WEIGHTS_DIR = path.join(blocker, 'weights');
  const records: { level: number; msg: string; why?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void records.push(JSON.parse(line)) });
  const engine = new Engine({ repository: repo, cores: 2, log });
  try {
    await engine.loadAll();
    const [only] = engine.model(TEXT_ORIENTATION).instances;
    assert.equal(only.weights, 'private');
    assert.match(only.weightsNote, /could not write a shared-weights copy: .*(ENOTDIR|not a directory)/);
    const warning = records.find((r) => r.msg === 'weights not shared: a private copy');
    assert.ok(warning && warning.level === 40, 'a warning is logged');
    assert.equal(warning.why, only.weightsNote);
    const out = await engine.infer(TEXT_ORIENTATION, { x: classifierInput(1) });
    assert.equal(out.outputs['softmax_0.tmp_0'].shape[0], 1, 'it serves all the same');
  } finally {
    if (saved === undefined) delete process.env.TENANCY_WEIGHTS_DIR;
    else process.env.TENANCY_WEIGHTS_DIR = saved;
    await engine.close();
    await removeDir(repo);
  }
});

test('an engine shares weights by default and gives private copies for share_weights false', async () => {
  const repo = await classifierRepo({ instance_group: [{ count: 2, kind: 'KIND_CPU' }] });
  const engine = new Engine({ repository: repo, cores: 2 });
  try {
    await engine.loadAll();
    assert.deepEqual(
      engine.model(TEXT_ORIENTATION).instances.map((i) => i.weights),
      ['shared', 'shared'],
    );
    const config = {
      ...engine.model(TEXT_ORIENTATION).config,
      parameters: { share_weights: { string_value: 'false' } },
    };
    await engine.load(TEXT_ORIENTATION, config);
    assert.deepEqual(
      engine.model(TEXT_ORIENTATION).instances.map((i) => i.weights),
      ['private', 'private'],
    );
    assert.equal(
      (await engine.infer(TEXT_ORIENTATION, { x: classifierInput(1) })).outputs['softmax_0.tmp_0'].shape[0],
      1,
    );
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});

test('copies left by an engine process that was killed are deleted by the next one', async () => {
  const root = await tempDir();
  try {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const stale = path.join(root, `0123456789abcdef0123-${gone}-1`);
    const live = path.join(root, `0123456789abcdef0123-${process.ppid}-1`);
    await mkdir(stale);
    await mkdir(live);
    const registry = new SharedWeights(() => root);
    const source = path.join(root, 'source.onnx');
    await writeFile(source, 'bytes');
    const lease = await registry.acquire(source, (from, to) => copyFile(from, to));
    assert.ok(!existsSync(stale), "a dead process's copy is deleted");
    assert.ok(existsSync(live), "a live process's copy stays");
    assert.equal(readFileSync(lease.file, 'utf8'), 'bytes');
    await lease.release();
    assert.ok(!existsSync(path.dirname(lease.file)));
  } finally {
    await removeDir(root);
  }
});
