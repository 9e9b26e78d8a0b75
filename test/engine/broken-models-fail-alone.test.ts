import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/index.js';
import {
  classifierRepo,
  classifierInput,
  cloneModel,
  removeDir,
  writeRaw,
  patchConfig,
  TEXT_ORIENTATION,
} from '../fixtures/repo.js';

test('a corrupt ONNX file, a bad config and a missing version fail their model alone, with the reason', async () => {
  const repo = await classifierRepo();
  await cloneModel(repo, TEXT_ORIENTATION, 'corrupt');
  await writeRaw(repo, 'corrupt/1/model.onnx', new Uint8Array([8, 7, 18, 3, 1, 2, 3, 0xff, 0xff, 0xff]));
  await cloneModel(repo, TEXT_ORIENTATION, 'bad_config');
  await patchConfig(repo, 'bad_config', { instance_group: [{ count: -1 }] });
  await writeRaw(repo, 'no_versions/config.json', '{}');
  await writeRaw(repo, 'not_json/config.json', '{ "max_batch_size": ');
  await writeRaw(repo, 'not_json/1/model.onnx', 'x');
  const engine = new Engine({ repository: repo, cores: 2 });
  try {
    await engine.loadAll();
    const index = Object.fromEntries(engine.index().map((e) => [e.name, e]));
    assert.equal(index[TEXT_ORIENTATION].state, 'READY');
    assert.equal(index.corrupt.state, 'UNAVAILABLE');
    assert.match(index.corrupt.reason, /corrupt\/1\/model\.onnx is not a valid ONNX model/);
    assert.equal(index.bad_config.state, 'UNAVAILABLE');
    assert.match(
      index.bad_config.reason,
      /bad_config\/config\.json: field "instance_group\[0\]\.count" must be an integer from 1 to 256, got -1/,
    );
    assert.match(
      index.no_versions.reason,
      /no version folder with model\.onnx \(expected no_versions\/1\/model\.onnx\)/,
    );
    assert.match(index.not_json.reason, /not_json\/config\.json: not valid JSON/);
    await assert.rejects(
      engine.infer('corrupt', { x: classifierInput() }),
      /model "corrupt" is not ready: it is unavailable \(.*not a valid ONNX model/,
    );
    const r = await engine.infer(TEXT_ORIENTATION, { x: classifierInput() });
    assert.equal(r.outputs['softmax_0.tmp_0'].data.length, 2);
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});

test(
  'an ONNX file that parses but that the runtime ' + 'rejects fails at instance load with the runtime reason',
  async () => {
    const repo = await classifierRepo();
    await cloneModel(repo, TEXT_ORIENTATION, 'truncated');
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(`${repo}/${TEXT_ORIENTATION}/1/model.onnx`);
    // Keep the header fields (inputs and outputs still parse) but cut the weights short.
    await writeRaw(repo, 'truncated/1/model.onnx', bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const engine = new Engine({ repository: repo, cores: 2 });
    try {
      await engine.loadAll();
      const row = engine.index().find((e) => e.name === 'truncated')!;
      assert.equal(row.state, 'UNAVAILABLE');
      assert.ok(row.reason.length > 10, `a reason is given: ${row.reason}`);
      assert.equal(engine.index().find((e) => e.name === TEXT_ORIENTATION)!.state, 'READY');
    } finally {
      await engine.close();
      await removeDir(repo);
    }
  },
);
