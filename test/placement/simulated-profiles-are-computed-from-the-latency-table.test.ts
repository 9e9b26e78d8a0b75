import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { profileModels, simulatedProfile, type DeviceInfo, type ProfileBench } from '../../src/placement/index.js';
import { removeDir, tempDir } from '../fixtures/repo.js';

const tpu = (maxConcurrent?: number): DeviceInfo => ({
  id: 'sim:edgetpu',
  kind: 'sim',
  available: true,
  simulated: true,
  memoryBytes: 8 * 2 ** 20,
  maxConcurrent,
  latencyMs: { mobilenet_v2: 2.5 },
  description: 'SIMULATED',
});

test("a simulated device's throughput is instances x 1000 / latency, up to its max_concurrent", () => {
  const p = simulatedProfile('mobilenet_v2', tpu(2), 4_000_000)!;
  assert.equal(p.device, 'sim:edgetpu');
  assert.deepEqual(
    p.points.map((x) => [x.instances, x.threads, x.batching, x.throughput]),
    [
      [1, 1, null, 400],
      [2, 1, null, 800],
    ],
  );
  assert.ok(
    p.points.every((x) => x.p99Ms === 5),
    'one running and one waiting: twice the latency',
  );
  assert.ok(
    p.points.every((x) => x.memoryPerInstance === 1_000_000),
    '8-bit weights: a quarter of the fp32 file',
  );
  assert.equal(simulatedProfile('mobilenet_v2', tpu(), 4)!.points.length, 1, 'max_concurrent defaults to 1');
  assert.equal(simulatedProfile('resnet50', tpu(2), 4), null, 'no latency for the model: it cannot run there');
});

test('profiling a simulated device measures nothing and labels the profile simulated', async () => {
  const dir = await tempDir('tenancy-sim-profile-');
  const file = path.join(dir, 'model.onnx');
  await writeFile(file, new Uint8Array(400));
  const lines: string[] = [];
  const bench: ProfileBench = {
    config: async () => ({}),
    modelFile: async () => file,
    runtime: () => 'r',
    measure: async () => assert.fail('a simulated device is never measured'),
  };
  try {
    const out = await profileModels(bench, [tpu(1)], ['mobilenet_v2', 'resnet50'], {
      onProgress: (l) => lines.push(l),
    });
    assert.equal(out.length, 1);
    assert.equal(out[0].source, 'simulated');
    assert.equal(out[0].simulated, true);
    assert.equal(out[0].points[0].memoryPerInstance, 100);
    assert.match(lines.join('\n'), /resnet50 on sim:edgetpu \(simulated\): no latency for it in the table, skipped/);
  } finally {
    await removeDir(dir);
  }
});
