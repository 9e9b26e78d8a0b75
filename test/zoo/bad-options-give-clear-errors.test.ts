import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { type ZooName, buildZooModel, isZooName, writeZooModel } from '../../src/zoo/index.js';

/** Asserts a RangeError whose message contains every fragment (the bad value, what is accepted). */
function rejects(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RangeError, `expected a RangeError, got ${String(err)}`);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" does not mention "${f}"`);
    return true;
  });
}

test('an unknown name is rejected, naming it and the accepted names', () => {
  assert.equal(isZooName('resnet34'), false);
  assert.equal(isZooName('resnet50'), true);
  rejects(() => buildZooModel('resnet34' as ZooName), '"resnet34"', 'mobilenet_v1', 'inception_v3');
});

test('an input size below the minimum is rejected, naming the size and the minimum', () => {
  rejects(() => buildZooModel('resnet50', { inputSize: 16 }), '16', 'resnet50', '>= 32');
  rejects(() => buildZooModel('inception_v3', { inputSize: 74 }), '74', 'inception_v3', '>= 75');
  rejects(() => buildZooModel('mobilenet_v2', { inputSize: 64.5 }), '64.5', 'integer');
});

test('a width multiplier <= 0, non-finite or on an architecture without one is rejected', () => {
  rejects(() => buildZooModel('mobilenet_v2', { widthMultiplier: 0 }), 'widthMultiplier 0', '> 0');
  rejects(() => buildZooModel('mobilenet_v1', { widthMultiplier: -0.5 }), '-0.5', '> 0');
  rejects(() => buildZooModel('mobilenet_v1', { widthMultiplier: Number.NaN }), 'NaN');
  rejects(() => buildZooModel('resnet18', { widthMultiplier: 0.5 }), '0.5', 'resnet18', 'mobilenet_v1, mobilenet_v2');
});

test('a bad seed or max batch size is rejected, naming the value', () => {
  rejects(() => buildZooModel('squeezenet1_1', { seed: -1 }), 'seed -1');
  rejects(() => buildZooModel('squeezenet1_1', { seed: 1.5 }), 'seed 1.5');
  rejects(() => buildZooModel('squeezenet1_1', { maxBatchSize: 0 }), 'maxBatchSize 0', '>= 1');
});

test('writeZooModel rejects a bad model name or instance count before writing anything', async (t) => {
  const repo = await mkdtemp(join(tmpdir(), 'zoo-repo-'));
  t.after(() => rm(repo, { recursive: true, force: true }));
  await assert.rejects(writeZooModel(repo, 'squeezenet1_1', { modelName: '../escape' }), /modelName "..\/escape"/);
  await assert.rejects(writeZooModel(repo, 'squeezenet1_1', { instanceCount: 0 }), /instanceCount 0/);
  assert.deepEqual(await readdir(repo), []);
});
