/** `tenancy serve` serves the dashboard on its HTTP port; `--no-dashboard` leaves it off. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { classifierRepo, removeDir } from '../fixtures/repo.js';
import { HEAP_FLAGS } from '../../src/server/heap-flags.js';

/** Starts `tenancy serve` on the repository with `flags`; returns its HTTP URL and a stop. */
async function serve(repo: string, flags: string[]) {
  const args = ['serve', '--repo', repo, '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0'];
  const child = spawn(
    process.execPath,
    [...HEAP_FLAGS, '--import', 'tsx', 'src/cli/main.ts', ...args, '--profiles', 'none', ...flags],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = out.match(/HTTP\/REST {2}(http:\/\/127\.0\.0\.1:\d+)\/v2/);
      if (m && out.includes('serving;')) resolve(m[1]);
    });
    child.once('exit', () => reject(new Error(`serve exited early:\n${out}`)));
  });
  return {
    url,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

test('tenancy serve serves /dashboard; --no-dashboard leaves it unserved', async () => {
  const repo = await classifierRepo();
  try {
    const on = await serve(repo, []);
    try {
      const page = await fetch(`${on.url}/dashboard`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>tenancy dashboard<\/title>/);
      const state = await (await fetch(`${on.url}/dashboard/api/state`)).json();
      assert.deepEqual(
        state.state.models.map((m: { name: string }) => m.name),
        ['text_orientation'],
      );
      assert.equal(state.state.mode, 'tune', 'the placement manager of serve, with its tuner');
    } finally {
      await on.stop();
    }
    const off = await serve(repo, ['--no-dashboard']);
    try {
      assert.equal((await fetch(`${off.url}/dashboard`)).status, 404);
      assert.equal((await fetch(`${off.url}/dashboard/api/events`)).status, 404);
      assert.equal((await fetch(`${off.url}/v2/health/live`)).status, 200);
    } finally {
      await off.stop();
    }
  } finally {
    await removeDir(repo);
  }
});
