import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  plan,
  type DeviceCapacity,
  type Demand,
  type ModelProfile,
  type ProfilePoint,
} from '../../src/placement/index.js';

const MB = 2 ** 20;
const cpu = (cores: number, memoryMB = 1024): DeviceCapacity => ({
  device: 'cpu',
  cores,
  memoryBytes: memoryMB * MB,
  maxInstances: Infinity,
  simulated: false,
});
const tpu = (maxInstances = 1, memoryMB = 8): DeviceCapacity => ({
  device: 'sim:edgetpu',
  cores: 0,
  memoryBytes: memoryMB * MB,
  maxInstances,
  simulated: true,
});
const pt = (instances: number, threads: number, throughput: number, memMB = 20, p99Ms = 10): ProfilePoint => ({
  instances,
  threads,
  batching: null,
  throughput,
  p99Ms,
  memoryPerInstance: memMB * MB,
});

test('one model on a 2-core CPU takes the best configuration that fits', () => {
  const profiles: ModelProfile[] = [
    { model: 'a', device: 'cpu', points: [pt(1, 1, 100), pt(2, 1, 190), pt(1, 2, 150), pt(4, 1, 260)] },
  ];
  const p = plan(profiles, [cpu(2)], [{ model: 'a' }]);
  assert.deepEqual(
    p.entries.map((e) => [e.instances, e.threads]),
    [[2, 1]],
    '4 x 1 needs 4 cores',
  );
  assert.equal(p.objective, 190);
  assert.match(p.reasons.join('\n'), /a on cpu: 2 x 1 thread -> 190\.0 inf\/s/);
  assert.match(p.reasons.join('\n'), /cpu: 2\/2 cores/);
});

test('memory, not cores, caps the concurrency level when the model is large', () => {
  const profiles: ModelProfile[] = [
    { model: 'big', device: 'cpu', points: [pt(1, 1, 10, 120), pt(2, 1, 19, 120), pt(3, 1, 27, 120)] },
  ];
  const p = plan(profiles, [cpu(4, 300)], [{ model: 'big' }]);
  assert.equal(p.entries[0].instances, 2, '3 instances would need 360 MB of 300');
});

test('weights and target rates steer the cores between models', () => {
  const profiles: ModelProfile[] = [
    { model: 'a', device: 'cpu', points: [pt(1, 1, 100), pt(2, 1, 200)] },
    { model: 'b', device: 'cpu', points: [pt(1, 1, 50), pt(2, 1, 100)] },
  ];
  const even = plan(profiles, [cpu(3)], [{ model: 'a' }, { model: 'b' }]);
  assert.deepEqual(
    even.entries.map((e) => `${e.model}:${e.instances}`),
    ['a:2', 'b:1'],
  );
  const favourB = plan(profiles, [cpu(3)], [{ model: 'a' }, { model: 'b', weight: 5 }]);
  assert.deepEqual(
    favourB.entries.map((e) => `${e.model}:${e.instances}`),
    ['a:1', 'b:2'],
  );
  const capped = plan(profiles, [cpu(3)], [{ model: 'a', targetRate: 100 }, { model: 'b' }]);
  assert.deepEqual(
    capped.entries.map((e) => `${e.model}:${e.instances}`),
    ['a:1', 'b:2'],
    'a needs no more than 100/s',
  );
});

test(
  'a model goes to the simulated accelerator when that frees the CPU for another, ' +
    'and the plan says it is simulated',
  () => {
    const profiles: ModelProfile[] = [
      { model: 'mobilenet', device: 'cpu', points: [pt(1, 1, 100), pt(2, 1, 190)] },
      { model: 'mobilenet', device: 'sim:edgetpu', points: [pt(1, 1, 380, 4)] },
      { model: 'resnet', device: 'cpu', points: [pt(1, 1, 10, 100), pt(2, 1, 19, 100)] },
    ];
    const p = plan(profiles, [cpu(2), tpu()], [{ model: 'mobilenet' }, { model: 'resnet', weight: 20 }]);
    const where = p.entries.map((e) => `${e.model}@${e.device}x${e.instances}`).sort();
    assert.deepEqual(where, ['mobilenet@sim:edgetpux1', 'resnet@cpux2']);
    assert.match(p.reasons.join('\n'), /mobilenet on sim:edgetpu \(simulated\)/);
  },
);

test('latency limits exclude configurations, and an impossible demand is refused with the reason', () => {
  const profiles: ModelProfile[] = [
    { model: 'a', device: 'cpu', points: [pt(1, 1, 100, 20, 5), pt(2, 1, 190, 20, 50)] },
  ];
  assert.equal(plan(profiles, [cpu(2)], [{ model: 'a', p99LimitMs: 10 }]).entries[0].instances, 1);
  assert.throws(
    () => plan(profiles, [cpu(2)], [{ model: 'a', p99LimitMs: 1 }]),
    /model "a" cannot be placed: no profile on any device meets its limits \(p99 <= 1 ms\)/,
  );
  const two: ModelProfile[] = [profiles[0], { model: 'b', device: 'cpu', points: [pt(1, 1, 10, 900)] }];
  assert.throws(
    () => plan(two, [cpu(2, 910)], [{ model: 'a' }, { model: 'b' }]),
    /no placement fits: .*b needs at least one of \[cpu: 1 cores, 900 MB\].*cpu has 2 cores, 910 MB/,
  );
});

// --- optimality against brute force on random small cases ---

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomCase(seed: number) {
  const r = rng(seed);
  const devices = [
    cpu(2 + Math.floor(r() * 3), 200 + Math.floor(r() * 300)),
    ...(r() < 0.5 ? [tpu(1 + Math.floor(r() * 2), 40)] : []),
  ];
  const models = ['a', 'b', 'c'].slice(0, 2 + Math.floor(r() * 2));
  const profiles: ModelProfile[] = [];
  for (const m of models) {
    for (const d of devices) {
      if (d.simulated && r() < 0.3) continue;
      const mem = 10 + Math.floor(r() * 80);
      const base = 20 + r() * 200;
      const points: ProfilePoint[] = [];
      for (const inst of [1, 2, 3])
        for (const th of d.simulated ? [1] : [1, 2])
          if (r() < 0.8) points.push(pt(inst, th, base * inst * (0.6 + 0.4 * r()) * (th === 2 ? 1.3 : 1), mem));
      if (points.length) profiles.push({ model: m, device: d.device, points });
    }
  }
  const demand: Demand[] = models.map((m) => ({
    model: m,
    weight: 1 + Math.floor(r() * 3),
    ...(r() < 0.3 ? { targetRate: 100 + r() * 200 } : {}),
  }));
  return { devices, profiles, demand };
}

/** Every combination, no pruning: the reference the planner must match. */
function bruteForce(profiles: ModelProfile[], devices: DeviceCapacity[], demand: Demand[]): number {
  const slots = profiles.filter((p) => demand.some((d) => d.model === p.model));
  let best = -1;
  const pick: (ProfilePoint | null)[] = [];
  const walk = (i: number) => {
    if (i === slots.length) {
      for (const d of devices) {
        let cores = 0,
          mem = 0,
          inst = 0;
        slots.forEach((s, j) => {
          const p = pick[j];
          if (!p || s.device !== d.device) return;
          cores += d.cores ? p.instances * p.threads : 0;
          mem += p.instances * p.memoryPerInstance;
          inst += p.instances;
        });
        if (cores > d.cores || mem > d.memoryBytes || inst > d.maxInstances) return;
      }
      let v = 0;
      for (const d of demand) {
        const rate = slots.reduce((n, s, j) => n + (s.model === d.model && pick[j] ? pick[j]!.throughput : 0), 0);
        if (rate === 0) return;
        v += (d.weight ?? 1) * Math.min(rate, d.targetRate ?? Infinity);
      }
      best = Math.max(best, v);
      return;
    }
    for (const p of [null, ...slots[i].points]) {
      pick[i] = p;
      walk(i + 1);
    }
  };
  walk(0);
  return best;
}

test('the exact search matches brute force on 100 random small cases, and greedy stays close', () => {
  let compared = 0;
  let greedyTotal = 0;
  let exactTotal = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const { devices, profiles, demand } = randomCase(seed);
    const reference = bruteForce(profiles, devices, demand);
    if (reference < 0) {
      assert.throws(() => plan(profiles, devices, demand, { method: 'exact' }), /cannot be placed|no placement fits/);
      continue;
    }
    const exact = plan(profiles, devices, demand, { method: 'exact' });
    assert.ok(
      Math.abs(exact.objective - reference) < 1e-6,
      `seed ${seed}: exact ${exact.objective} vs brute force ${reference}`,
    );
    const greedy = plan(profiles, devices, demand, { method: 'greedy' });
    assert.ok(greedy.objective <= reference + 1e-6, `seed ${seed}: greedy cannot beat the optimum`);
    for (const d of devices) {
      const on = greedy.entries.filter((e) => e.device === d.device);
      assert.ok(
        on.reduce((n, e) => n + (d.cores ? e.instances * e.threads : 0), 0) <= d.cores,
        `seed ${seed}: greedy respects ${d.device} cores`,
      );
    }
    greedyTotal += greedy.objective;
    exactTotal += reference;
    compared++;
  }
  assert.ok(compared >= 40, `${compared} feasible cases compared`);
  console.log(`greedy reaches ${(greedyTotal / exactTotal).toFixed(3)} of the optimum over ${compared} cases`);
  assert.ok(
    greedyTotal / exactTotal >= 0.9,
    `greedy reaches ${(greedyTotal / exactTotal).toFixed(3)} of the optimum on average`,
  );
});
