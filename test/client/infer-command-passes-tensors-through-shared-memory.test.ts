import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { classifierInput } from '../fixtures/repo.js';
import { serveClassifier, TEXT_ORIENTATION, OUTPUT, type Served } from '../server/serve-fixture.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'infer', ...args]);
let s: Served;
before(async () => (s = await serveClassifier({ allowClientShm: true })));
after(() => s.close());
const leftovers = async () => (await readdir('/dev/shm')).filter((f) => f.startsWith('tenancy-infer-'));

test(
  'tenancy infer --shared-memory system gives the engine numbers over HTTP and gRPC, ' + 'and leaves nothing behind',
  async () => {
    const x = classifierInput(2, 4);
    const file = path.join(s.repo, 'request-shm.json');
    await writeFile(
      file,
      JSON.stringify({ x: { datatype: 'FP32', shape: x.shape, data: Array.from(x.data as Float32Array) } }),
    );
    const want = Array.from((await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array);
    for (const args of [
      ['--url', s.http],
      ['--url', s.grpc, '--protocol', 'grpc'],
    ]) {
      const out = JSON.parse(
        (await cli(TEXT_ORIENTATION, ...args, '--input', file, '--shared-memory', 'system')).stdout,
      );
      assert.deepEqual(out.outputs, [{ name: OUTPUT, datatype: 'FP32', shape: [2, 2], data: want }], args.join(' '));
    }
    const top = JSON.parse(
      (await cli(TEXT_ORIENTATION, '--url', s.http, '--shared-memory', 'system', '--classification', '1')).stdout,
    );
    assert.match(
      top.outputs[0].data[0],
      /^\d\.\d{6}:[01]:(0|180)$/,
      'a classification output read back from shared memory',
    );
    assert.deepEqual(await leftovers(), []);
    assert.deepEqual(
      await (await fetch(`${s.http}/v2/systemsharedmemory/status`)).json(),
      [],
      'the region was unregistered',
    );
  },
);

test('tenancy infer --shared-memory system against a server that does not allow it says how to allow it', async () => {
  const off = await serveClassifier();
  try {
    await assert.rejects(
      cli(TEXT_ORIENTATION, '--url', off.http, '--shared-memory', 'system'),
      (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 1);
        assert.match(
          e.stderr,
          /server answered 400: system shared memory is off on this server: start it with --allow-client-shm/,
        );
        return true;
      },
    );
    assert.deepEqual(await leftovers(), []);
  } finally {
    await off.close();
  }
});
