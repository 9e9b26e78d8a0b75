import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { inventory, validateDevicesFile } from '../../src/runtime/index.js';
import { textOrientationModelFile } from '../../src/default-repository.js';

test(
  'the inventory lists the CPU, declared core sets, ' +
    'the GPU (or why it is absent) and simulated devices labelled as such',
  async () => {
    const file = validateDevicesFile({
      core_sets: { first: [0] },
      simulated: { edgetpu: { latency_ms: { mobilenet_v2: 2.6 }, memory_bytes: 8 * 2 ** 20, max_concurrent: 1 } },
    });
    const devices = await inventory({ file, probeModel: textOrientationModelFile() });
    const byId = Object.fromEntries(devices.map((d) => [d.id, d]));
    assert.deepEqual(byId.cpu.cores, [...Array(os.availableParallelism()).keys()]);
    assert.deepEqual(byId['cpu:first'].cores, [0]);
    assert.ok(byId['gpu:0'], 'the GPU is always listed');
    if (!byId['gpu:0'].available) assert.match(byId['gpu:0'].reason ?? '', /\w+/, 'an absent GPU says why');
    const sim = byId['sim:edgetpu'];
    assert.equal(sim.simulated, true);
    assert.match(sim.description, /^SIMULATED: /);
    assert.deepEqual(sim.latencyMs, { mobilenet_v2: 2.6 });
  },
);

test('a devices file with a bad core set or latency table is refused naming the field and value', () => {
  assert.throws(
    () => validateDevicesFile({ core_sets: { big: [99] } }, 'devices.json'),
    /devices\.json: field "core_sets\.big" must be a non-empty list of core ids from 0 to \d+, got \[99\]/,
  );
  assert.throws(
    () => validateDevicesFile({ simulated: { tpu: { latency_ms: { m: -1 }, memory_bytes: 1 } } }, 'devices.json'),
    /field "simulated\.tpu\.latency_ms" must map model names to a latency in ms > 0/,
  );
  assert.throws(
    () => validateDevicesFile({ simulated: { tpu: { latency_ms: { m: 1 } } } }, 'devices.json'),
    /field "simulated\.tpu\.memory_bytes" must be a number of bytes > 0, got undefined/,
  );
});
