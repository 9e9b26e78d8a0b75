import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { classifierInput } from '../fixtures/repo.js';
import { serveClassifier, TEXT_ORIENTATION, OUTPUT, type Served } from '../server/serve-fixture.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'infer', ...args]);
let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

test('tenancy infer sends zeros over HTTP and gRPC and prints the same top class', async () => {
  const a = JSON.parse((await cli(TEXT_ORIENTATION, '--url', s.http, '--classification', '1')).stdout);
  const b = JSON.parse(
    (await cli(TEXT_ORIENTATION, '--url', s.grpc, '--protocol', 'grpc', '--classification', '1')).stdout,
  );
  assert.equal(a.model_name, TEXT_ORIENTATION);
  assert.deepEqual(a.outputs, b.outputs);
  assert.match(a.outputs[0].data[0], /^\d\.\d{6}:[01]:(0|180)$/);
});

test('tenancy infer reads a request body from a JSON file and prints the engine numbers', async () => {
  const x = classifierInput(1, 3);
  const file = path.join(s.repo, 'request.json');
  await writeFile(
    file,
    JSON.stringify({
      inputs: [{ name: 'x', datatype: 'FP32', shape: x.shape, data: Array.from(x.data as Float32Array) }],
    }),
  );
  const want = Array.from((await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array);
  const out = JSON.parse((await cli(TEXT_ORIENTATION, '--url', s.http, '--input', file, '--no-binary')).stdout);
  assert.deepEqual(out.outputs[0].data, want);
  const compressed = JSON.parse(
    (
      await cli(
        TEXT_ORIENTATION,
        '--url',
        s.http,
        '--input',
        file,
        '--request-compression',
        'gzip',
        '--response-compression',
        'deflate',
      )
    ).stdout,
  );
  assert.deepEqual(compressed.outputs[0].data, want);
});

test('tenancy infer refuses HTTP compression over gRPC', async () => {
  await assert.rejects(
    cli(TEXT_ORIENTATION, '--url', s.grpc, '--protocol', 'grpc', '--request-compression', 'gzip'),
    (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /--request-compression and --response-compression are for --protocol http/);
      return true;
    },
  );
});

test('tenancy infer reports a server error with its status and exits 1', async () => {
  await assert.rejects(cli('nope', '--url', s.http), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, /server answered 404: unknown model "nope"/);
    return true;
  });
});
