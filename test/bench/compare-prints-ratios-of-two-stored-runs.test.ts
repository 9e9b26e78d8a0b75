import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Command } from 'commander';
import { History, type ExperimentResult, type ResultRow } from '../../src/bench/index.js';
import { registerBenchCommand } from '../../src/cli/bench.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

const row = (level: number, throughput: number, p99: number): ResultRow => ({
  phase: 'cme',
  model: 'm',
  level,
  batchSize: 1,
  load: 'concurrency 2',
  setup: '',
  throughput,
  requestRate: throughput,
  latencyAvgMs: 1,
  latencyP50Ms: 1,
  latencyP90Ms: 1,
  latencyP95Ms: 1,
  latencyP99Ms: p99,
  errors: 0,
  stable: true,
  windows: 3,
  queueUs: NaN,
  computeInferUs: 100,
  computeOtherUs: 10,
  cpuProcessPct: 50,
  cpuSystemPct: 60,
  loadedBytes: 1e8,
  peakBytes: 1.2e8,
});
const result = (rows: ResultRow[], best: number): ExperimentResult => ({
  experiment: 'cme',
  rows,
  notes: [],
  summaryTitle: 't',
  summary: [
    {
      model: 'm',
      baseline: 100,
      best,
      bestLevel: 2,
      speedup: best / 100,
      maxLevel: Infinity,
      perInstanceMB: 20,
      note: '',
    },
  ],
});
const env = {
  hostname: 'h',
  platform: 'linux',
  arch: 'x64',
  cpuModel: 'cpu',
  cores: 2,
  memoryBytes: 1,
  node: 'v20',
  onnxruntime: '1.30.0',
  tenancy: '0.1.0',
  commit: null,
  target: 't',
  models: [],
};

test(
  'bench --compare prints B/A ratios setting by setting and for the summary, ' + 'and NaN survives the database',
  async () => {
    const dir = await tempDir('tenancy-bench-compare-');
    const db = path.join(dir, 'bench.db');
    const h = new History(db);
    const save = (r: ExperimentResult, at: string) =>
      h.save({
        experiment: 'cme',
        startedAt: new Date(at),
        finishedAt: new Date(at),
        environment: env,
        settings: {},
        result: r,
        reportDir: null,
      });
    const a = save(result([row(1, 100, 10), row(2, 150, 12)], 150), '2025-01-01T00:00:00Z');
    const b = save(result([row(1, 110, 10), row(2, 300, 6), row(3, 310, 7)], 310), '2025-01-02T00:00:00Z');
    assert.ok(Number.isNaN(h.load(a).rows[0].queueUs));
    assert.equal(h.load(a).summary[0].maxLevel, Infinity);
    h.close();

    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => {
      printed.push(s);
      return true;
    }) as typeof process.stdout.write;
    try {
      const program = new Command().exitOverride();
      registerBenchCommand(program);
      await program.parseAsync(['node', 'tenancy', 'bench', '--db', db, '--compare', a, b.slice(0, -2)]);
    } finally {
      process.stdout.write = write;
      await removeDir(dir);
    }
    const text = printed.join('');
    assert.match(text, /^m\s+2\.07\s+1\.50\s+3\.10$/m, text);
    assert.match(text, /^cme m level 1 batch 1\s+100\.0\s+110\.0\s+1\.10\s+1\.00$/m);
    assert.match(text, /^cme m level 2 batch 1\s+150\.0\s+300\.0\s+2\.00\s+0\.50$/m);
    assert.match(text, /only in B: cme m level 3 batch 1/);
  },
);
