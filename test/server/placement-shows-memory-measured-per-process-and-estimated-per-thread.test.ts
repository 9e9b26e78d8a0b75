import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveClassifier, TEXT_ORIENTATION } from './serve-fixture.js';
import { estimateInstanceBytes, estimateSharedCopyBytes } from '../../src/engine/admission.js';
import { memoryFigures, PlacementManager, processMemory, type MemoryView } from '../../src/engine/index.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

const kB = (file: string, field: string) =>
  Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(file, 'utf8'))![1]) * 1024;
const near = (a: number, b: number, share = 0.25) => Math.abs(a - b) <= b * share;

test(
  'GET /v2/placement shows memory: a process host measured from /proc (PSS), worker-thread instances ' +
    "estimated by the admission's figures, the server process measured",
  async () => {
    const s = await serveClassifier({}, async () => {}, {
      instance_group: [
        { count: 1, host: 'process' },
        { count: 1, host: 'thread' },
      ],
    });
    try {
      const view = await (await fetch(`${s.http}/v2/placement`)).json();
      const memory = view.memory as MemoryView;
      assert.equal(memory.server.pid, process.pid);
      assert.equal(memory.server.source, 'measured');
      assert.ok(near(memory.server.rssBytes!, kB('/proc/self/status', 'VmRSS')), JSON.stringify(memory.server));
      assert.ok(near(memory.server.pssBytes!, kB('/proc/self/smaps_rollup', 'Pss')), JSON.stringify(memory.server));

      const m = s.engine.model(TEXT_ORIENTATION);
      const [model] = memory.models;
      assert.deepEqual([memory.models.length, model.model, model.version], [1, TEXT_ORIENTATION, 1]);
      const own = model.instances.find((i) => i.host === 'process')!;
      const child = m.instances.find((i) => i.hostKind === 'process')!;
      assert.equal(own.pid, child.pid);
      assert.notEqual(own.pid, process.pid);
      assert.deepEqual([own.source, own.basis], ['measured', 'pss']);
      assert.equal(own.bytes, own.pssBytes);
      assert.ok(near(own.pssBytes!, kB(`/proc/${own.pid}/smaps_rollup`, 'Pss')), JSON.stringify(own));
      assert.ok(near(own.rssBytes!, kB(`/proc/${own.pid}/status`, 'VmRSS')), JSON.stringify(own));
      assert.match(own.how, new RegExp(`^Pss of /proc/${own.pid}/smaps_rollup$`));

      const thread = model.instances.find((i) => i.host === 'thread')!;
      const weights = m.instances.find((i) => i.hostKind === 'thread')!.weights;
      assert.deepEqual(
        [thread.source, thread.basis, thread.pid, thread.rssBytes, thread.pssBytes],
        ['estimated', 'admission', process.pid, null, null],
      );
      assert.equal(thread.weights, weights);
      assert.equal(thread.bytes, estimateInstanceBytes(m.file, weights));
      assert.match(thread.how, /a worker thread of the server process .*the admission's estimate/);
      const copy = weights === 'shared' ? estimateSharedCopyBytes(m.file, 'shared') : 0;
      assert.equal(model.sharedCopyBytes, copy);
      assert.equal(model.estimatedBytes, thread.bytes + copy);
      assert.equal(model.measuredBytes, own.bytes);
      assert.equal(memory.totalBytes, memory.server.pssBytes! + own.bytes);
      assert.equal(memory.serverRestBytes, memory.server.pssBytes! - thread.bytes - copy);
      // the dashboard's once-a-second view() does not read /proc: only GET /v2/placement adds it
      assert.equal('memory' in new PlacementManager(s.engine).view(), false);
    } finally {
      await s.close();
    }
  },
);

test('without a Pss (an older kernel) the measured figure is VmRSS, and says so', async () => {
  const proc = await tempDir('tenancy-fake-proc-');
  try {
    await mkdir(path.join(proc, '4242'));
    await writeFile(path.join(proc, '4242', 'status'), 'Name:\tnode\nVmRSS:\t  123456 kB\nThreads:\t7\n');
    assert.deepEqual(processMemory(4242, proc), { pid: 4242, rssBytes: 123456 * 1024, pssBytes: null });
    assert.deepEqual(processMemory(999999, proc), { pid: 999999, rssBytes: null, pssBytes: null });
    const instance = {
      name: 'm:1#0',
      device: 'cpu',
      threads: 1,
      hostKind: 'process' as const,
      pid: 4242,
      weights: 'private' as const,
    };
    const model = { name: 'm', version: 1, file: fileURLToPath(import.meta.url), instances: [instance] };
    // biome-ignore lint/suspicious/noExplicitAny: a model view with only the fields memoryFigures reads
    const view = memoryFigures([model as any], { pid: 4242, proc });
    const [i] = view.models[0].instances;
    assert.deepEqual([i.source, i.basis, i.bytes, i.pssBytes], ['measured', 'rss', 123456 * 1024, null]);
    assert.equal(i.how, 'VmRSS of /proc/4242/status');
    assert.equal(view.server.pssBytes, null);
    assert.equal(view.totalBytes, 2 * 123456 * 1024, 'the server (same fake pid) by RSS, and the instance');
  } finally {
    await removeDir(proc);
  }
});
