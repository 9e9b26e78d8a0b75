import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { EngineTarget, History, runBench, defaultBenchOptions, REPORT_FILES } from '../../src/bench/index.js';
import { cpuDevice, type Device } from '../../src/runtime/index.js';
import { writeZooModel } from '../../src/zoo/index.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

const tpu: Device = {
  id: 'sim:tpu',
  kind: 'sim',
  available: true,
  simulated: true,
  memoryBytes: 8 * 2 ** 20,
  maxConcurrent: 1,
  latencyMs: { squeezenet1_1: 2 },
  description: 'SIMULATED: test accelerator',
};

test(
  'dmp with short windows on a tiny repo compares every ' +
    'placement with each model alone and labels the simulated rows',
  async () => {
    const repo = await tempDir('tenancy-dmp-repo-');
    await writeZooModel(repo, 'squeezenet1_1', { inputSize: 32 });
    await writeZooModel(repo, 'squeezenet1_1', { inputSize: 32, modelName: 'other' });
    const work = await tempDir('tenancy-dmp-e2e-');
    const out = path.join(work, 'report');
    const db = path.join(work, 'bench.db');
    const target = new EngineTarget({ repository: repo, devices: [cpuDevice(), tpu] });
    try {
      const options = defaultBenchOptions({ windowMs: 120, warmupMs: 60 });
      options.stability.maxWindows = 3;
      const run = await runBench({ experiment: 'dmp', target, options, outDir: out, dbPath: db });
      const rows = run.result.rows;

      // (a) each alone, then (b) all on the CPU, (c) core sets made up as halves, (d) the CPU + the
      // accelerator; (e) no GPU here.
      const phases = [...new Set(rows.map((r) => r.phase))];
      assert.deepEqual(phases, ['alone', 'all on cpu', 'core sets cpu:a + cpu:b', 'cpu + sim:tpu (simulated)']);
      assert.ok(
        rows.every((r) => r.throughput > 0 && r.errors === 0),
        'every setting served',
      );
      const onTpu = rows.find((r) => r.phase.includes('sim:tpu') && r.model === 'squeezenet1_1')!;
      assert.match(onTpu.setup, /on sim:tpu \(simulated\)$/);
      assert.ok(onTpu.throughput <= 520, `a 2 ms accelerator cannot pass 500 inf/s, got ${onTpu.throughput}`);
      assert.match(
        rows.find((r) => r.phase.startsWith('core sets') && r.model === 'other')!.setup,
        /\(process.*\) on cpu:[ab]$/,
        'core sets pin processes',
      );
      assert.ok(run.result.notes.some((n) => /split in two halves/.test(n)));
      assert.ok(run.result.notes.some((n) => /^cpu \+ gpu:0: absent: no GPU/.test(n)));

      // Summary: per model and totals for every placement; every simulated one labelled.
      const names = run.result.summary.map((s) => s.model);
      assert.ok(names.includes('all on cpu: all models (normalized)'));
      assert.ok(names.includes('cpu + sim:tpu (simulated): squeezenet1_1'));
      for (const s of run.result.summary)
        if (/sim:/.test(s.model + s.note)) assert.match(s.model, /\(simulated\)/, s.model);
      const gpu = run.result.summary.find((s) => s.model.startsWith('cpu + gpu:0'))!;
      assert.ok(Number.isNaN(gpu.best) && /^absent: no GPU/.test(gpu.note));

      // The report folder: the comparison table as markdown, CSV and JSON, and the plots.
      const files = await readdir(out);
      for (const f of [...REPORT_FILES, 'dmp.csv', 'speedup.svg', 'throughput.svg'])
        assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
      const csv = (await readFile(path.join(out, 'dmp.csv'), 'utf8')).trim().split('\n');
      assert.equal(csv[0], 'placement,other,squeezenet1_1,all models (inf/s),all models (normalized),where');
      assert.equal(csv.length, 6, 'header, alone, cpu, core sets, accelerator, gpu');
      assert.match(csv[4], /^cpu \+ sim:tpu \(simulated\),.*squeezenet1_1@sim:tpu \(simulated\)/);
      assert.match(csv[5], /^cpu \+ gpu:0,-,-,-,-,absent: no GPU/);
      const md = await readFile(path.join(out, 'summary.md'), 'utf8');
      assert.match(md, /## Placements compared/);
      assert.match(md, /\| cpu \+ sim:tpu \(simulated\) \| [\d.]+ \([\d.]+x\) \|/);
      const json = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8'));
      assert.equal(json.tables[0].file, 'dmp.csv');
      assert.ok(
        json.rows
          .filter((r: { setup: string }) => r.setup.includes('sim:'))
          .every((r: { phase: string }) => r.phase.includes('(simulated)')),
      );
      const svg = await readFile(path.join(out, 'speedup.svg'), 'utf8');
      assert.match(svg, /^<svg/);
      assert.match(svg, /cpu \+ sim:tpu \(simulated\)/);

      const history = new History(db);
      try {
        assert.equal(history.load(run.runId!).experiment, 'dmp');
      } finally {
        history.close();
      }
    } finally {
      await target.close();
      await removeDir(repo);
      await removeDir(work);
    }
  },
);
