import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { registerPlanCommand } from '../../src/cli/plan.js';
import { registerProfileCommand } from '../../src/cli/profile.js';
import { writeZooModel } from '../../src/zoo/index.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

const MODEL = 'squeezenet1_1';

function cli(register: typeof registerPlanCommand) {
  const out: string[] = [];
  const notes: string[] = [];
  const program = new Command('tenancy').exitOverride().configureOutput({ writeErr: () => {} });
  register(
    program,
    (s) => out.push(s),
    (l) => notes.push(l),
  );
  return { program, out, notes };
}

test(
  'plan measures what is missing on a tiny zoo model, ' +
    'prints a plan with reasons, and --json reuses the stored profiles',
  async () => {
    const repo = await tempDir('tenancy-plan-repo-');
    await writeZooModel(repo, MODEL, { inputSize: 32 });
    const work = await tempDir('tenancy-plan-cli-');
    const devices = path.join(work, 'devices.json');
    await writeFile(
      devices,
      JSON.stringify({
        simulated: { tpu: { latency_ms: { [MODEL]: 2 }, memory_bytes: 8 * 2 ** 20, max_concurrent: 1 } },
      }),
    );
    const common = [
      '--repo',
      repo,
      '--devices',
      devices,
      '--db',
      path.join(work, 'profiles.db'),
      '--no-probe',
      '--window-ms',
      '100',
      '--warmup-ms',
      '50',
      '--batch-sizes',
      '4',
    ];
    try {
      const first = cli(registerPlanCommand);
      await first.program.parseAsync(['plan', ...common, '--weights', `${MODEL}=2`], { from: 'user' });
      const text = first.out.join('');
      assert.match(text, /^MODEL +DEVICE +INSTANCES +THREADS +BATCHING +EXPECTED INF\/S$/m);
      assert.match(text, new RegExp(`^${MODEL} +cpu +\\d +\\d +(none|up to 4) +[\\d.]+$`, 'm'));
      assert.match(
        text,
        new RegExp(`^${MODEL} +sim:tpu \\(simulated\\) +1 +1 +none +500\\.0$`, 'm'),
        'the accelerator takes an instance too',
      );
      assert.match(text, /why \((exact|greedy) search, objective [\d.]+\):/);
      assert.match(text, /- devices: cpu \+ sim:tpu \(simulated\)/);
      assert.match(text, /- cpu: [12]\/2 cores, \d+\/\d+ MB, \d instances/);
      assert.ok(
        first.notes.some((l) => /squeezenet1_1 on cpu: 1 x 1 thread: [\d.]+ inf\/s/.test(l)),
        'it measured the CPU configurations',
      );

      const again = cli(registerPlanCommand);
      await again.program.parseAsync(['plan', ...common, '--json', '--p99', `${MODEL}=1000`], { from: 'user' });
      assert.ok(
        again.notes.some((l) => /squeezenet1_1 on cpu: stored profile of/.test(l)),
        'nothing measured the second time',
      );
      assert.ok(!again.notes.some((l) => /inf\/s/.test(l)));
      const plan = JSON.parse(again.out.join(''));
      assert.ok(Array.isArray(plan.entries) && plan.entries.length === 2, 'the shape PUT /v2/placement takes');
      for (const e of plan.entries)
        assert.deepEqual(Object.keys(e).sort(), [
          'batching',
          'device',
          'expectedThroughput',
          'instances',
          'model',
          'threads',
        ]);
      assert.ok(plan.reasons.length > 3 && plan.objective > 0);

      const profile = cli(registerProfileCommand);
      await profile.program.parseAsync(['profile', ...common], { from: 'user' });
      assert.match(
        profile.out.join(''),
        new RegExp(
          `${MODEL} on cpu: stored, measured .*\\nINSTANCES +THREADS +BATCHING +INF/S +P99 MS +MB/INSTANCE\\n`,
        ),
      );
      assert.match(profile.out.join(''), new RegExp(`${MODEL} on sim:tpu \\(simulated\\): SIMULATED`));

      const bad = cli(registerPlanCommand);
      await assert.rejects(
        bad.program.parseAsync(['plan', ...common, '--weights', 'nope=1'], { from: 'user' }),
        (err: Error & { exitCode?: number }) => {
          assert.match(err.message, /demand names unknown model "nope" \(models: squeezenet1_1\)/);
          assert.equal(err.exitCode, 2, 'a usage error');
          return true;
        },
      );
    } finally {
      await removeDir(repo);
      await removeDir(work);
    }
  },
);

test('--balance weighs each model by its best throughput, and demand flags name only known models', async () => {
  const { balanceWeights, buildDemand } = await import('../../src/cli/plan.js');
  const pt = (throughput: number) => ({
    instances: 1,
    threads: 1,
    batching: null,
    throughput,
    p99Ms: 1,
    memoryPerInstance: 1,
  });
  const profiles = [
    { model: 'fast', device: 'cpu', points: [pt(100), pt(400)] },
    { model: 'slow', device: 'cpu', points: [pt(4)] },
    { model: 'slow', device: 'sim:x', points: [pt(8)] },
  ];
  const demand = buildDemand(['fast', 'slow'], [{ model: 'slow', p99LimitMs: 50 }], {
    weights: { fast: 2 },
    targetRates: { slow: 6 },
  });
  assert.deepEqual(demand, [
    { model: 'fast', weight: 2 },
    { model: 'slow', p99LimitMs: 50, targetRate: 6 },
  ]);
  assert.deepEqual(
    balanceWeights(demand, profiles).map((d) => [d.model, d.weight]),
    [
      ['fast', 2 / 400],
      ['slow', 1 / 8],
    ],
  );
  assert.throws(
    () => buildDemand(['fast'], [], { p99: { typo: 5 } }),
    /demand names unknown model "typo" \(models: fast\)/,
  );
});
