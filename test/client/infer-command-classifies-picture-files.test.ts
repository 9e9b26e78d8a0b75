import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { serveClassifier, TEXT_ORIENTATION, type Served } from '../server/serve-fixture.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'infer', ...args]);
const PICTURES = ['examples/images/text-0.png', 'examples/images/text-180.png'];
let s: Served;
before(async () => (s = await serveClassifier()));
after(() => s.close());

test('tenancy infer --image sends picture files over HTTP and gRPC and prints their labels', async () => {
  for (const transport of [
    ['--url', s.http],
    ['--url', s.grpc, '--protocol', 'grpc'],
  ]) {
    const out = JSON.parse(
      (await cli(TEXT_ORIENTATION, ...transport, '--classification', '1', '--image', ...PICTURES)).stdout,
    );
    assert.deepEqual(out.outputs[0].shape, [2, 1]);
    assert.deepEqual(
      out.outputs[0].data.map((r: string) => r.split(':')[2]),
      ['0', '180'],
      transport.join(' '),
    );
  }
});

test('tenancy infer --image with a file that is not a picture reports the 400 and exits 1', async () => {
  await assert.rejects(
    cli(TEXT_ORIENTATION, '--url', s.http, '--image', 'package.json'),
    (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(
        e.stderr,
        new RegExp(
          'server answered 400: input "x" of model "text_orientation":' +
            ' image 0 \\(\\d+ bytes, starting 7b 0a .*\\) is not a jpeg, png or webp image',
        ),
      );
      return true;
    },
  );
});
