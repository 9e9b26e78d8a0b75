import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MAX_REGIONS, SystemSharedMemory } from '../../src/server/oip/shm-registry.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

// Every registered region holds an open file descriptor: a client registering without end would
// use them all up, and the server could then open neither sockets nor model files.
test(
  `at most ${MAX_REGIONS} shared memory regions are registered at once; ` +
    'past that a clear error, and unregistering makes room',
  async () => {
    const root = await tempDir('tenancy-shm-');
    await writeFile(path.join(root, 'obj'), Buffer.alloc(16));
    const shm = new SystemSharedMemory(root);
    try {
      for (let i = 0; i < MAX_REGIONS; i++) shm.register(`r${i}`, '/obj', 0, 16);
      assert.throws(
        () => shm.register('one_more', '/obj', 0, 16),
        new RegExp(
          'shared memory region "one_more": 1024 regions are registered,' +
            ' the most this server holds; unregister some first',
        ),
      );
      shm.unregister('r0');
      shm.register('one_more', '/obj', 0, 16);
      assert.equal(shm.status().length, MAX_REGIONS);
    } finally {
      shm.close();
      await removeDir(root);
    }
  },
);
