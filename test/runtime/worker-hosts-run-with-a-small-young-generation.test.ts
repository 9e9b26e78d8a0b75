import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadHost, WORKER_RESOURCE_LIMITS } from '../../src/runtime/host.js';

test("a worker-thread host runs with host.ts's young generation, not the serving process's", async () => {
  assert.equal(WORKER_RESOURCE_LIMITS.maxYoungGenerationSizeMb, 3, 'as docs/memory.md measured');
  const lean = new ThreadHost();
  const v8s = new ThreadHost({});
  try {
    assert.equal(lean.resourceLimits.maxYoungGenerationSizeMb, 3, 'as V8 applied it in the worker');
    // V8's own depends on the process (-1 here, 48 in a fresh clone's run): only not host.ts's.
    assert.notEqual(v8s.resourceLimits.maxYoungGenerationSizeMb, 3, "{} leaves V8's own (the process's flags)");
  } finally {
    await Promise.all([lean.close(), v8s.close()]);
  }
});
