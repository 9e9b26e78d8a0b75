/** `tenancy serve` serves the dashboard on its HTTP port; `--no-dashboard` leaves it off. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifierRepo, removeDir } from '../fixtures/repo.js';
import { FREE_PORTS, startServe } from '../fixtures/serve-process.js';

/** Starts `tenancy serve` on the repository with `flags`; returns its HTTP URL and a stop. */
const serve = (repo: string, flags: string[]) =>
  startServe(['--repo', repo, ...FREE_PORTS, '--profiles', 'none', ...flags]);

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
