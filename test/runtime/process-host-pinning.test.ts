import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { Engine } from '../../src/index.js';
import { cpuDevice } from '../../src/runtime/index.js';
import { classifierRepo, classifierInput, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

/** The CPU each thread of a process last ran on (field 39 of /proc/PID/task/TID/stat). */
async function processorsOf(pid: number): Promise<number[]> {
  const tids = await readdir(`/proc/${pid}/task`);
  const out: number[] = [];
  for (const tid of tids) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length > 36) out.push(Number(fields[36]));
  }
  return out;
}

test('a process host pinned to core 0 runs only there', async () => {
  const repo = await classifierRepo({ instance_group: [{ count: 1, device: 'cpu:first' }] });
  const devices = [cpuDevice(), { ...cpuDevice(), id: 'cpu:first', cores: [0], description: 'core set first' }];
  const engine = new Engine({ repository: repo, devices });
  try {
    await engine.loadAll();
    const [instance] = engine.model(TEXT_ORIENTATION).instances;
    assert.equal(instance.hostKind, 'process', 'a core set needs a process to pin');
    const pid = instance.pid!;
    assert.notEqual(pid, process.pid);
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /Cpus_allowed_list:\s+0\n/);
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      await engine.infer(TEXT_ORIENTATION, { x: classifierInput(8) });
      for (const cpu of await processorsOf(pid)) seen.add(cpu);
    }
    assert.deepEqual([...seen], [0], 'every thread of the host ran on core 0');
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});
