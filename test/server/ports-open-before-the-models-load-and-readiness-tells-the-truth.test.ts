import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Engine } from '../../src/index.js';
import { startServers } from '../../src/server/index.js';
import { GrpcClient } from '../../src/client/index.js';
import { cpuDevice } from '../../src/runtime/index.js';
import { classifierRepo, cloneModel, patchConfig, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';
import { startServe, FREE_PORTS } from '../fixtures/serve-process.js';
import { slowSimDevice } from '../fixtures/engine.js';
import { HEAP_FLAGS } from '../../src/server/heap-flags.js';

/**
 * A model whose warm-up takes 6 x 250 ms on a simulated device (time spent, not CPU): its load
 * is slow on any machine, so what the server says meanwhile can be checked without racing it.
 */
const SLOW = 'slow_warmup';
const simulated = slowSimDevice(SLOW, 250);
const slowConfig = {
  name: SLOW,
  instance_group: [{ count: 1, device: 'sim:slow' }],
  model_warmup: [
    {
      name: 'zeros',
      batch_size: 1,
      count: 6,
      inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 48, 192], zero_data: true } },
    },
  ],
};

async function repoWithSlowModel(): Promise<string> {
  const repo = await classifierRepo();
  await cloneModel(repo, TEXT_ORIENTATION, SLOW);
  await patchConfig(repo, SLOW, slowConfig);
  return repo;
}

const status = async (url: string) => {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
};

async function until(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    assert.ok(Date.now() < deadline, `${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test(
  'while the start-up loads run the server is live and not ready, strict or not; ' +
    'each model is ready as its own load ends',
  async () => {
    const repo = await repoWithSlowModel();
    const engine = new Engine({ repository: repo, cores: 2, devices: [cpuDevice(), simulated] });
    engine.starting = true;
    const servers = await startServers(engine, {
      httpPort: 0,
      grpcPort: 0,
      metricsPort: null,
      strictReadiness: false,
    });
    const url = `http://127.0.0.1:${servers.httpPort}`;
    const grpc = new GrpcClient(`127.0.0.1:${servers.grpcPort}`);
    try {
      assert.equal(await status(`${url}/v2/health/live`), 200);
      assert.equal(await status(`${url}/v2/health/ready`), 400, 'nothing loaded yet: not ready, though not strict');
      assert.equal(await grpc.ready(), false);
      // Before the repository is read, a model is not yet loaded (503: retry), not unknown (404).
      const early = await fetch(`${url}/v2/models/${TEXT_ORIENTATION}/infer`, {
        method: 'POST',
        body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [0] }] }),
      });
      assert.equal(early.status, 503);
      const why = ((await early.json()) as { error: string }).error;
      assert.match(why, /is not loaded yet: the server is starting and has not read the repository/);
      const loads = engine.loadAll();
      await until(
        'the fast model ready',
        async () => (await status(`${url}/v2/models/${TEXT_ORIENTATION}/ready`)) === 200,
      );
      assert.equal(await status(`${url}/v2/models/${SLOW}/ready`), 400, 'the slow one still warms up');
      assert.equal(await status(`${url}/v2/health/ready`), 400);
      await loads;
      assert.equal(await status(`${url}/v2/models/${SLOW}/ready`), 200);
      assert.equal(await status(`${url}/v2/health/ready`), 400, 'ready only once the caller says the start is over');
      engine.starting = false;
      assert.equal(await status(`${url}/v2/health/ready`), 200);
      assert.equal(await grpc.ready(), true);
      assert.equal(await status(`${url}/v2/models/no_such_model`), 404, 'once started, an unknown model is 404');
    } finally {
      grpc.close();
      await servers.close();
      await engine.close();
      await removeDir(repo);
    }
  },
);

test('tenancy serve opens its ports before the models load and says ready only once they have', async () => {
  const repo = await repoWithSlowModel();
  const devices = path.join(repo, 'devices.json');
  await writeFile(
    devices,
    JSON.stringify({
      simulated: { slow: { latency_ms: { [SLOW]: 250 }, memory_bytes: 2 ** 30, max_concurrent: 4 } },
    }),
  );
  // Spawned here rather than with startServe (which resolves at "serving;"): watched from its first line.
  const args = ['serve', '--repo', repo, '--devices', devices, '--profiles', 'none', ...FREE_PORTS];
  const child = spawn(process.execPath, [...HEAP_FLAGS, '--import', 'tsx', 'src/cli/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await until('the loading line', async () => /^loading /m.test(out) || child.exitCode !== null);
    const url = /HTTP\/REST {2}(http:\/\/127\.0\.0\.1:\d+)\/v2/.exec(out)?.[1];
    assert.ok(url, `the HTTP URL is printed before the loads start:\n${out}`);
    assert.equal(await status(`${url}/v2/health/live`), 200);
    const readyMeanwhile = await status(`${url}/v2/health/ready`);
    assert.ok(!out.includes('serving;'), `the slow warm-up (1.5 s) is not over yet:\n${out}`);
    assert.equal(readyMeanwhile, 400, 'not ready while loading');
    await until('serving', async () => out.includes('serving;') || child.exitCode !== null);
    assert.equal(await status(`${url}/v2/health/ready`), 200, out);
    assert.equal(await status(`${url}/v2/models/${SLOW}/ready`), 200);
    const at = (re: RegExp) => out.split('\n').findIndex((l) => re.test(l));
    assert.ok(at(/^HTTP\/REST /) < at(/^loading /) && at(/^loading /) < at(/^MODEL /), out);
    const m = /^ready (\d+\.\d+) s after the process started \(ports open at (\d+\.\d+) s\)$/m.exec(out);
    assert.ok(m && Number(m[2]) <= Number(m[1]) - 1.4, `the ports opened before the 1.5 s warm-up:\n${out}`);
    assert.ok(at(/^ready /) < at(/^serving; /), out);
  } finally {
    child.kill('SIGTERM');
    await exited;
    await removeDir(repo);
  }
});

test('"serving;" still means ready: the tests and scripts that wait for it may use the models at once', async () => {
  const repo = await classifierRepo();
  const s = await startServe(['--repo', repo, '--profiles', 'none', ...FREE_PORTS]);
  try {
    assert.equal(await status(`${s.url}/v2/health/ready`), 200, s.output());
    assert.equal(await status(`${s.url}/v2/models/${TEXT_ORIENTATION}/ready`), 200);
  } finally {
    await s.stop();
    await removeDir(repo);
  }
});
