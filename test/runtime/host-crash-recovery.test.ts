import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type TenancyError } from '../../src/index.js';
import { cpuDevice } from '../../src/runtime/index.js';
import { slowSimDevice } from '../fixtures/engine.js';
import { classifierRepo, classifierInput, cloneModel, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

test(
  'a killed host process fails only its own request, ' + 'queued requests run elsewhere, and it is replaced',
  async () => {
    const repo = await classifierRepo({ max_batch_size: 64, instance_group: [{ count: 2, host: 'process' }] });
    await cloneModel(repo, TEXT_ORIENTATION, 'bystander');
    const engine = new Engine({ repository: repo, cores: 2 });
    try {
      await engine.loadAll();
      const model = engine.model(TEXT_ORIENTATION);
      const big = classifierInput(64);
      // Two running (one per instance), one sent ahead to each (pipeline depth 2), two queued. The
      // victim's run sent ahead never started: it goes back to the queue and runs elsewhere.
      const calls = Array.from({ length: 6 }, () => engine.infer(TEXT_ORIENTATION, { x: big }));
      const victim = model.instances[0];
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(victim.inflight, 2, 'the victim is running a request, with one more sent ahead, when killed');
      process.kill(victim.pid!, 'SIGKILL'); // kill -9 of its host process

      const results = await Promise.allSettled(calls);
      const failed = results
        .filter((r) => r.status === 'rejected')
        .map((r) => (r as PromiseRejectedResult).reason as TenancyError);
      assert.equal(failed.length, 1, 'exactly the running request of the killed instance fails');
      assert.equal(failed[0].code, 'INSTANCE_FAILED');
      assert.match(
        failed[0].message,
        new RegExp(
          'instance text_orientation:1#0 failed: process \\d+ exited unexpectedly ' +
            '\\(signal SIGKILL\\) while running the request',
        ),
      );
      assert.equal(
        results.filter((r) => r.status === 'fulfilled').length,
        5,
        'the queued requests, and the one sent ahead to the victim, ran on the other instance',
      );

      // A replacement comes up and the model is back to two ready instances.
      for (let i = 0; i < 100 && model.instances.filter((x) => x.state === 'ready').length < 2; i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.equal(model.instances.filter((x) => x.state === 'ready').length, 2);
      assert.ok(!model.instances.includes(victim));
      const r = await engine.infer('bystander', { x: classifierInput(1) });
      assert.deepEqual(r.outputs['softmax_0.tmp_0'].shape, [1, 2]);
      const again = await Promise.all([
        engine.infer(TEXT_ORIENTATION, { x: big }),
        engine.infer(TEXT_ORIENTATION, { x: big }),
      ]);
      assert.equal(again.length, 2);
    } finally {
      await engine.close();
      await removeDir(repo);
    }
  },
);

test('a replacement that crashes while it warms up is replaced once, not twice', async () => {
  const sim = slowSimDevice(TEXT_ORIENTATION, 200);
  // Warm-up takes 5 x 200 ms in a process host: long enough to kill a replacement during it.
  const warmup = [{ count: 5, inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 48, 192] } } }];
  const repo = await classifierRepo({
    instance_group: [{ count: 1, device: 'sim:slow', host: 'process' }],
    model_warmup: warmup,
  });
  const engine = new Engine({ repository: repo, cores: 2, devices: [cpuDevice(), sim] });
  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(ok(), what);
  };
  try {
    await engine.loadAll();
    const model = () => engine.model(TEXT_ORIENTATION);
    process.kill(model().instances[0].pid!, 'SIGKILL');
    const replacement = `${TEXT_ORIENTATION}:1#1`;
    await until('a replacement starts', () =>
      model().instances.some((i) => i.name === replacement && /^process \d+$/.test(i.hostLabel)),
    );
    const warming = model().instances.find((i) => i.name === replacement)!;
    assert.notEqual(warming.state, 'ready', 'killed while it warms up');
    process.kill(Number(warming.hostLabel.split(' ')[1]), 'SIGKILL');
    await until('the next replacement is ready', () => model().instances.some((i) => i.state === 'ready'));
    await new Promise((r) => setTimeout(r, 1500)); // a second replacement, were there one, would be up by now
    assert.deepEqual(
      model().instances.map((i) => [i.name, i.state]),
      [[`${TEXT_ORIENTATION}:1#2`, 'ready']],
    );
  } finally {
    await engine.close();
    await removeDir(repo);
  }
});
