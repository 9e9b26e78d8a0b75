import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { PlainSession, plainSessionMainUrl } from '../../src/bench/plain-session.js';
import { plainFigure, plainRatios } from '../../src/bench/plain-ratios.js';
import type { ResultRow } from '../../src/bench/index.js';
import { DEFAULT_STABILITY } from '../../src/bench/windows.js';
import { classifierInput, classifierRepo, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

test(
  'the plain-session baseline runs in a process of its own, ' + "on the real model, with the bench's windows",
  async () => {
    const repo = await classifierRepo();
    const session = await PlainSession.start(path.join(repo, TEXT_ORIENTATION, '1', 'model.onnx'), [
      { x: classifierInput(1, 1) },
      { x: classifierInput(1, 2) },
    ]);
    try {
      assert.ok(session.pid && session.pid !== process.pid, 'its own process');
      const cmdline = await readFile(`/proc/${session.pid}/cmdline`, 'utf8');
      assert.match(cmdline, /plain-session-main\.(ts|js)/);
      const s = await session.measure(150, 50, { ...DEFAULT_STABILITY, maxWindows: 4 });
      assert.ok(s.throughput > 10, `${s.throughput} inf/s`);
      assert.ok(s.windows.length >= 3 && s.windows.length <= 4, `${s.windows.length} windows`);
      assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.p99 >= s.latencyMs.p50);
      assert.ok(s.rssBytes > 0 && s.cpuPct > 0);
      // The loop stopped: a second slice starts from nothing.
      const again = await session.measure(100, 20, { ...DEFAULT_STABILITY, maxWindows: 3 });
      assert.equal(again.windows.length, 3);
    } finally {
      session.close();
      await removeDir(repo);
    }
  },
);

test(
  "the plain session is created with the runtime's defaults: " +
    'no session options at all, and no tenancy code in its path',
  async () => {
    const source = await readFile(fileURLToPath(plainSessionMainUrl()), 'utf8');
    const creates = source.match(/InferenceSession\.create\([^)]*\)/g) ?? [];
    assert.deepEqual(creates, ['InferenceSession.create(m.file)']);
    const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    assert.deepEqual(
      imports.filter((i) => !i.startsWith('./plain-session-protocol')),
      ['onnxruntime-node'],
    );
  },
);

test("a setting is compared with the mean of its model's plain slices just before and after it", () => {
  const row = (phase: string, model: string, throughput: number) => ({ phase, model, throughput }) as ResultRow;
  const rows = [
    row('plain', 'a', 100),
    row('baseline', 'a', 50),
    row('plain', 'a', 300),
    row('cme', 'a', 400),
    row('cme', 'b', 10),
    row('plain', 'b', 20),
    row('cme', 'a', 150),
  ];
  const r = plainRatios(rows);
  assert.ok(Number.isNaN(r[0]) && Number.isNaN(r[2]) && Number.isNaN(r[5]), 'plain rows have no ratio');
  assert.equal(r[1], 50 / 200);
  assert.equal(r[3], 400 / 300, 'the last slice before it, none after');
  assert.equal(r[4], 10 / 20, "only its own model's slices count");
  assert.equal(r[6], 150 / 300);
  assert.deepEqual(plainFigure(rows, 'a'), { median: 200, min: 100, max: 300, slices: 2 });
  assert.equal(plainFigure(rows, 'c'), null);
  assert.ok(plainRatios([row('cme', 'z', 5)]).every(Number.isNaN), 'no slices: no ratio');
});
