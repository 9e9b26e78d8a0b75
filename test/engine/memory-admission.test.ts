import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { appendFile, stat, truncate } from 'node:fs/promises';
import { Engine } from '../../src/index.js';
import { classifierRepo, classifierInput, removeDir, TEXT_ORIENTATION as M } from '../fixtures/repo.js';

test(
  'instances that would not fit in the memory available are refused with the figures, ' + 'and what runs keeps serving',
  async () => {
    const repo = await classifierRepo();
    const engine = new Engine({ repository: repo, cores: 2 });
    try {
      await engine.loadAll();
      // At ~22 MB per instance, the classifier would need hundreds of instances to fill the memory,
      // past the config's limit of 256. Its file grows instead (a sparse tail in an unknown protobuf
      // field, which ONNX readers skip), so that the estimate of 256 instances exceeds the memory
      // (with shared weights 256 instances count 256 x 22 MB + about 6.2 x the file).
      const file = path.join(repo, M, '1', 'model.onnx');
      const pad = Math.ceil(Math.max(0, os.freemem() * 0.9 - 256 * 22 * 2 ** 20) / 6) + 64 * 2 ** 20;
      const size = (await stat(file)).size;
      const field = Buffer.from([0x9a, 0x06, ...varint(pad)]); // field 99, length-delimited
      await appendFile(file, field);
      await truncate(file, size + field.length + pad);
      const count = 256;
      const config = { ...engine.model(M).config, instance_group: [{ count, kind: 'KIND_CPU' }] };
      // In place, the refusal counts the instances to add (all but the one running).
      await assert.rejects(
        engine.load(M, config),
        new RegExp(
          '\\d+ instances need about \\d+ MB \\(estimate with shared weights: one copy of 1\\.1 x the model file ' +
            '\\+ 20 MB, and 0\\.02 x the file \\+ 22 MB each\\), only \\d+ MB are available',
        ),
      );
      assert.equal(engine.model(M).instances.length, 1, 'the running version stays');
      assert.equal((await engine.infer(M, { x: classifierInput(1) })).outputs['softmax_0.tmp_0'].shape[0], 1);
    } finally {
      await engine.close();
      await removeDir(repo);
    }
  },
);

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}
