import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { EngineTarget, History, runBench, defaultBenchOptions, REPORT_FILES } from '../../src/bench/index.js';
import { classifierRepo, removeDir, tempDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

test(
  'cme on the real classifier with short windows writes ' + 'the report files and stores the run with its rows',
  async () => {
    const repo = await classifierRepo();
    const work = await tempDir('tenancy-bench-e2e-');
    const out = path.join(work, 'report');
    const db = path.join(work, 'bench.db');
    const target = new EngineTarget({ repository: repo });
    try {
      const options = defaultBenchOptions({ windowMs: 150, warmupMs: 100 });
      options.stability.maxWindows = 4;
      options.sweep.maxLevel = 2;
      const run = await runBench({ experiment: 'cme', target, options, outDir: out, dbPath: db });

      // The experiment: a baseline and levels 1 and 2, each between two slices of the plain
      // session (A/B), all measured without errors.
      const rows = run.result.rows;
      assert.deepEqual(
        rows.map((r) => [r.phase, r.level]),
        [
          ['plain', 1],
          ['baseline', 1],
          ['plain', 1],
          ['cme', 1],
          ['plain', 1],
          ['cme', 2],
          ['plain', 1],
        ],
      );
      assert.ok(
        rows.every(
          (r) => r.model === TEXT_ORIENTATION && r.throughput > 0 && r.errors === 0 && r.latencyP99Ms >= r.latencyP50Ms,
        ),
      );
      assert.match(
        rows[0].setup,
        /^plain onnxruntime-node session \(default options, awaited in a loop, own process\)/,
      );
      assert.match(rows[1].setup, /^1 x \d+ threads?, spinning/);
      assert.match(rows[5].setup, /^2 x 1 thread/);
      const [s] = run.result.summary;
      assert.equal(s.model, TEXT_ORIENTATION);
      assert.ok(s.speedup > 0 && [1, 2].includes(s.bestLevel));
      assert.ok(
        s.perInstanceMB > 0 && s.maxLevel >= 2,
        `memory per instance ${s.perInstanceMB} MB, max level ${s.maxLevel}`,
      );
      assert.equal(s.note, 'reached the highest level to try (2)');
      // Against the plain session: its median over the 4 slices, the best level over the slices around it.
      assert.equal(s.plain?.slices, 4);
      const best = rows.find((r) => r.phase === 'cme' && r.level === s.bestLevel)!;
      const i = rows.indexOf(best);
      assert.ok(
        Math.abs(s.bestVsPlain! - best.throughput / ((rows[i - 1].throughput + rows[i + 1].throughput) / 2)) < 1e-9,
      );
      assert.ok(
        Math.abs(s.baselineVsPlain! - rows[1].throughput / ((rows[0].throughput + rows[2].throughput) / 2)) < 1e-9,
      );
      assert.ok(run.result.notes.some((n) => /"vs plain": against the plain onnxruntime-node session/.test(n)));

      // The report folder.
      const files = await readdir(out);
      for (const f of [...REPORT_FILES, 'throughput.svg', 'speedup.svg', 'latency.svg', 'cpu.svg', 'memory.svg'])
        assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
      const json = JSON.parse(await readFile(path.join(out, 'result.json'), 'utf8'));
      assert.equal(json.runId, run.runId);
      assert.equal(json.rows.length, 7);
      assert.match(json.environment.models[0].sha256, /^[0-9a-f]{64}$/);
      const csv = (await readFile(path.join(out, 'results.csv'), 'utf8')).trim().split('\n');
      assert.equal(csv.length, 8);
      assert.match(csv[0], /^phase,model,level,batchSize/);
      const md = await readFile(path.join(out, 'summary.md'), 'utf8');
      assert.match(
        md,
        new RegExp(
          '\\| model \\| plain session inf\\/s \\| single-tenant inf\\/s \\| best inf\\/s \\|' +
            ' best level \\| vs plain \\| vs single-tenant \\(papers\\) \\|',
        ),
      );
      assert.match(
        md,
        new RegExp(
          `\\| ${TEXT_ORIENTATION} \\| [\\d.]+ \\([\\d.]+-[\\d.]+, 4 slices\\) \\| [\\d.]+ \\| [\\d.]+ \\| ` +
            `[12] \\| [\\d.]+x \\| [\\d.]+x \\|`,
        ),
      );
      const throughputSvg = await readFile(path.join(out, 'throughput.svg'), 'utf8');
      assert.match(throughputSvg, /^<svg[^>]*>.*baseline/s);
      assert.match(throughputSvg, /plain session/);
      assert.match(await readFile(path.join(out, 'speedup.svg'), 'utf8'), /plain onnxruntime-node session/);
      const html = await readFile(path.join(out, 'index.html'), 'utf8');
      assert.equal((html.match(/<svg/g) ?? []).length, 5, 'the five plots are inlined');
      assert.doesNotMatch(html, /<(script|link|img)\b/, 'self-contained: nothing loaded from elsewhere');

      // The database rows.
      const history = new History(db);
      try {
        assert.equal(history.count('runs', run.runId!), 1);
        assert.equal(history.count('results', run.runId!), 7);
        assert.equal(history.count('run_models', run.runId!), 1);
        const stored = history.load(run.runId!);
        assert.equal(stored.experiment, 'cme');
        assert.equal(stored.environment.cores > 0 && stored.environment.node, process.version);
        assert.equal(stored.rows[5].throughput, rows[5].throughput);
        assert.equal(stored.summary[0].plain?.slices, 4);
        assert.equal(stored.summary[0].maxLevel, s.maxLevel);
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
