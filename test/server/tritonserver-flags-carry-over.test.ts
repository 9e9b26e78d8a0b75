import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Engine } from '../../src/index.js';
import { startServers } from '../../src/server/index.js';
import { HEAP_FLAGS } from '../../src/server/heap-flags.js';
import { FREE_PORTS, startServe } from '../fixtures/serve-process.js';
import { classifierRepo, cloneModel, removeDir, tempDir, TEXT_ORIENTATION, writeRaw } from '../fixtures/repo.js';

const SERVE = [...HEAP_FLAGS, '--import', 'tsx', 'src/cli/main.ts', 'serve'];
const PORTS = [...FREE_PORTS, '--profiles', 'none'];

/** A second model whose config is Triton's config.pbtxt (the classifier's, renamed). */
async function withPbtxtModel(repo: string): Promise<void> {
  await cloneModel(repo, TEXT_ORIENTATION, 'pbtxt_model');
  await rm(path.join(repo, 'pbtxt_model', 'config.json'));
  await writeFile(
    path.join(repo, 'pbtxt_model', 'config.pbtxt'),
    'name: "pbtxt_model"\nmax_batch_size: 8\ninstance_group [ { count: 1 kind: KIND_CPU } ]\n',
  );
}

test("serve --model-repository A --model-repository B --model-control-mode explicit --load-model '*'", async () => {
  // Two repositories, one namespace: the classifier in one, a pbtxt model in the other.
  const repo = await classifierRepo();
  const other = await tempDir();
  await withPbtxtModel(repo);
  await rename(path.join(repo, 'pbtxt_model'), path.join(other, 'pbtxt_model'));
  const serve = await startServe([
    '--model-repository',
    repo,
    '--model-repository',
    other,
    '--model-control-mode',
    'explicit',
    '--load-model',
    '*',
    ...PORTS,
  ]);
  const { url } = serve;
  try {
    const index = (await (await fetch(`${url}/v2/repository/index`, { method: 'POST' })).json()) as {
      name: string;
      state: string;
    }[];
    assert.deepEqual(
      index.map((r) => [r.name, r.state]),
      [
        ['pbtxt_model', 'READY'],
        [TEXT_ORIENTATION, 'READY'],
      ],
    );
    assert.equal((await fetch(`${url}/v2/health/ready`)).status, 200);
    assert.match(serve.output(), new RegExp(`loading ${repo}, ${other} `));
    assert.equal(await serve.stop(), 0, serve.output());
  } finally {
    serve.child.kill('SIGKILL');
    await removeDir(repo);
    await removeDir(other);
  }
});

test('a model name in two repositories loads from neither, naming both; the others serve', async () => {
  const a = await classifierRepo();
  const b = await classifierRepo();
  await cloneModel(b, TEXT_ORIENTATION, 'only_in_b');
  const engine = new Engine({ repository: [a, b], cores: 2 });
  try {
    await engine.loadAll();
    const rows = engine.index();
    const twice = rows.find((r) => r.name === TEXT_ORIENTATION);
    assert.equal(twice?.state, 'UNAVAILABLE');
    assert.match(twice?.reason ?? '', new RegExp(`is in more than one model repository \\(${a}, ${b}\\)`));
    assert.equal(rows.find((r) => r.name === 'only_in_b')?.state, 'READY');
    await assert.rejects(engine.load('nowhere'), /unknown model "nowhere" \(known: only_in_b, text_orientation\)/);
    // Removing one copy mends it: the next load finds one folder.
    await removeDir(path.join(b, TEXT_ORIENTATION));
    await engine.load(TEXT_ORIENTATION);
    assert.equal(engine.index().find((r) => r.name === TEXT_ORIENTATION)?.state, 'READY');
  } finally {
    await engine.close();
    await removeDir(a);
    await removeDir(b);
  }
});

test("tritonserver's flags that tenancy lacks, or given wrongly, end in one line naming them, exit 2", async () => {
  const run = promisify(execFile);
  const cases: [string[], RegExp][] = [
    [
      ['--backend-config', 'onnxruntime,x=1'],
      /tritonserver's --backend-config is not a tenancy flag: the ONNX Runtime/,
    ],
    [['--trace-config'], /^error: tritonserver's --trace-config is not a tenancy flag: tracing is not supported/],
    [['--repo', 'a', '--model-repository', 'b'], /give --repo or --model-repository, not both/],
    [['--strict-readiness=maybe'], /--strict-readiness takes true or false, got "maybe"/],
    [['--model-control-mode', 'watch'], /argument 'watch' is invalid\. Allowed choices are none, explicit, poll/],
  ];
  for (const [flags, message] of cases) {
    const out = await run(process.execPath, [...SERVE, ...flags]).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(out.code, flags.includes('watch') ? 1 : 2, `${flags.join(' ')}: ${out.stderr}`);
    assert.match(out.stderr, message, flags.join(' '));
    assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('--exit-on-error ends the start when a model fails; without it the rest serve', async () => {
  const repo = await classifierRepo();
  await cloneModel(repo, TEXT_ORIENTATION, 'broken');
  await writeRaw(repo, 'broken/1/model.onnx', 'not an onnx file');
  try {
    const out = await promisify(execFile)(process.execPath, [
      ...SERVE,
      '--repo',
      repo,
      '--exit-on-error',
      ...PORTS,
    ]).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(out.code, 1, out.stderr);
    assert.match(out.stderr, /^error: --exit-on-error: broken( version 1)? failed to load: /m);
  } finally {
    await removeDir(repo);
  }
});

test('strict readiness (default) is not ready with a failed model; --strict-readiness=false is ready', async () => {
  const repo = await classifierRepo();
  await cloneModel(repo, TEXT_ORIENTATION, 'broken');
  await writeRaw(repo, 'broken/1/model.onnx', 'not an onnx file');
  const engine = new Engine({ repository: repo, cores: 2 });
  await engine.loadAll();
  const strict = await startServers(engine, { httpPort: 0, grpcPort: null, metricsPort: null });
  const lax = await startServers(engine, { httpPort: 0, grpcPort: null, metricsPort: null, strictReadiness: false });
  try {
    assert.equal((await fetch(`http://127.0.0.1:${strict.httpPort}/v2/health/ready`)).status, 400);
    assert.equal((await fetch(`http://127.0.0.1:${lax.httpPort}/v2/health/ready`)).status, 200);
  } finally {
    await strict.close();
    await lax.close();
    await engine.close();
    await removeDir(repo);
  }
});

test('serve --model-control-mode poll loads a model folder dropped into the repository', async () => {
  const repo = await classifierRepo();
  const serve = await startServe([
    '--repo',
    repo,
    '--model-control-mode',
    'poll',
    '--repository-poll-secs',
    '1',
    ...PORTS,
  ]);
  const { url } = serve;
  try {
    assert.match(serve.output(), /polling .* every 1 s for models added, changed or removed/);
    await withPbtxtModel(repo);
    const ready = async () => (await fetch(`${url}/v2/models/pbtxt_model/ready`)).status === 200;
    for (let i = 0; i < 200 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await ready(), true, serve.output());
    assert.match(serve.output(), /repository: load pbtxt_model\n/);
    const refused = await fetch(`${url}/v2/repository/models/pbtxt_model/unload`, { method: 'POST' });
    assert.equal(refused.status, 503, 'in poll mode the folder decides, not the repository extension');
    assert.equal(await serve.stop(), 0, serve.output());
  } finally {
    serve.child.kill('SIGKILL');
    await removeDir(repo);
  }
});
