import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  capacitiesOf,
  disjointCpuChoices,
  planOnDevices,
  type DeviceInfo,
  type ModelProfile,
  type ProfilePoint,
} from '../../src/placement/index.js';

const MB = 2 ** 20;
const cpu = (id: string, cores: number[]): DeviceInfo => ({
  id,
  kind: 'cpu',
  available: true,
  cores,
  description: id,
  memoryBytes: 1024 * MB,
  simulated: false,
});
const tpu: DeviceInfo = {
  id: 'sim:tpu',
  kind: 'sim',
  available: true,
  simulated: true,
  memoryBytes: 8 * MB,
  maxConcurrent: 1,
  latencyMs: { a: 2 },
  description: 'SIMULATED',
};
const gpu: DeviceInfo = {
  id: 'gpu:0',
  kind: 'gpu',
  available: false,
  reason: 'no adapter',
  description: 'GPU',
  memoryBytes: 0,
  simulated: false,
};
const pt = (instances: number, threads: number, throughput: number): ProfilePoint => ({
  instances,
  threads,
  batching: null,
  throughput,
  p99Ms: 10,
  memoryPerInstance: 20 * MB,
});

test('the whole CPU and its core sets are alternatives, never used together', () => {
  const devices = [cpu('cpu', [0, 1]), cpu('cpu:little', [0]), cpu('cpu:big', [1]), tpu, gpu];
  assert.deepEqual(
    disjointCpuChoices(devices).map((c) => c.map((d) => d.id)),
    [['cpu'], ['cpu:little', 'cpu:big']],
  );
  const caps = capacitiesOf(devices, { memoryBudgetBytes: 512 * MB });
  assert.deepEqual(
    caps.map((c) => [c.device, c.cores, c.memoryBytes / MB, c.maxInstances, c.simulated]),
    [
      ['cpu', 2, 512, Infinity, false],
      ['cpu:little', 1, 512, Infinity, false],
      ['cpu:big', 1, 512, Infinity, false],
      ['sim:tpu', 0, 8, 1, true],
    ],
    'the unavailable GPU is left out; the accelerator keeps its own memory',
  );
});

test('the plan takes the better of the alternatives and says what it compared', () => {
  const devices = [cpu('cpu', [0, 1]), cpu('cpu:little', [0]), cpu('cpu:big', [1]), tpu];
  const profiles: ModelProfile[] = [
    { model: 'a', device: 'cpu', points: [pt(1, 1, 100), pt(1, 2, 120)] },
    { model: 'b', device: 'cpu', points: [pt(1, 1, 50), pt(1, 2, 60)] },
    // Pinned to a core set each, the models do better than sharing the whole CPU.
    { model: 'a', device: 'cpu:little', points: [pt(1, 1, 110)] },
    { model: 'b', device: 'cpu:big', points: [pt(1, 1, 70)] },
    { model: 'a', device: 'sim:tpu', points: [{ ...pt(1, 1, 500), memoryPerInstance: 2 * MB }] },
  ];
  const p = planOnDevices(profiles, devices, [{ model: 'a' }, { model: 'b' }]);
  assert.deepEqual(p.entries.map((e) => `${e.model}@${e.device}`).sort(), ['a@cpu:little', 'a@sim:tpu', 'b@cpu:big']);
  assert.match(
    p.reasons[0],
    new RegExp(
      '^devices: cpu:little \\+ cpu:big \\+ sim:tpu \\(simulated\\)' +
        ', chosen over cpu \\+ sim:tpu \\(simulated\\) \\(objective 6\\d0\\.0\\)',
    ),
  );
  assert.ok(p.reasons.some((r) => /a on sim:tpu \(simulated\)/.test(r)));
  assert.ok(
    p.reasons.some((r) => /^cpu:little: 1\/1 cores, 20\/512 MB/.test(r)),
    'two core sets share the 1024 MB by their cores',
  );
  assert.throws(() => planOnDevices(profiles, devices, [{ model: 'c' }]), /model "c" cannot be placed/);
});
