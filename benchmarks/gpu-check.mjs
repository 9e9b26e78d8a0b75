// GPU check, run on a machine with an NVIDIA GPU (the device tool): does ONNX Runtime's WebGPU
// provider find an adapter, do the engine's outputs on gpu:0 match the CPU's, and how fast is it?
// Uses the built dist/ only. Usage: node benchmarks/gpu-check.mjs [seconds]
import os from 'node:os';
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { inventory, cpuDevice } from '../dist/runtime/index.js';
import { Engine } from '../dist/engine/index.js';
import { writeZooModel } from '../dist/zoo/index.js';
import { textOrientationModelFile } from '../dist/default-repository.js';

const SECONDS = Number(process.argv[2] ?? 4);
const devices = await inventory({ probeModel: textOrientationModelFile() });
console.log(`host: ${os.cpus()[0]?.model} (${os.availableParallelism()} cores)`);
for (const d of devices)
  console.log(`device ${d.id}: ${d.available ? 'available' : `absent (${d.reason})`} - ${d.description}`);
const gpu = devices.find((d) => d.id === 'gpu:0');
if (!gpu?.available) process.exit(0);

async function repoFor(model, device, count) {
  const repo = await mkdtemp(path.join(os.tmpdir(), `gpu-${device.replace(':', '')}-`));
  await writeZooModel(repo, model, { maxBatchSize: 16 });
  const file = path.join(repo, model, 'config.json');
  const config = JSON.parse(await readFile(file, 'utf8'));
  config.instance_group = [{ count, device }];
  delete config.dynamic_batching;
  await writeFile(file, JSON.stringify(config));
  return repo;
}

async function measure(engine, model, batch, concurrency) {
  const data = new Float32Array(batch * 3 * 224 * 224).map((_, i) => Math.sin(i) * 0.5);
  const feeds = { input: { datatype: 'FP32', shape: [batch, 3, 224, 224], data } };
  for (let i = 0; i < 3; i++) await engine.infer(model, feeds);
  const t0 = performance.now();
  let n = 0;
  const lat = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() - t0 < SECONDS * 1000) {
        const r = await engine.infer(model, feeds);
        lat.push(r.timing.totalMs);
        n += batch;
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { rate: n / ((performance.now() - t0) / 1000), p50: lat[Math.floor(lat.length / 2)] };
}

for (const model of ['mobilenet_v2', 'resnet50']) {
  const engines = {};
  for (const [name, device, count] of [
    ['gpu', 'gpu:0', 1],
    ['cpu', 'cpu', 1],
  ]) {
    const e = new Engine({ repository: await repoFor(model, device, count), devices: [cpuDevice(), gpu] });
    await e.loadAll();
    const row = e.index()[0];
    if (row.state !== 'READY') {
      console.log(`${model} on ${device}: not loaded: ${row.reason}`);
      continue;
    }
    engines[name] = e;
  }
  if (engines.gpu && engines.cpu) {
    const data = new Float32Array(2 * 3 * 224 * 224).map((_, i) => Math.cos(i) * 0.5);
    const feeds = { input: { datatype: 'FP32', shape: [2, 3, 224, 224], data } };
    const [g, c] = await Promise.all([engines.gpu.infer(model, feeds), engines.cpu.infer(model, feeds)]);
    const a = g.outputs.logits.data,
      b = c.outputs.logits.data;
    let maxDiff = 0,
      maxAbs = 0;
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxAbs = Math.max(maxAbs, Math.abs(b[i]));
    }
    console.log(
      `${model}: gpu vs cpu outputs: max abs difference ${maxDiff.toExponential(2)} ` +
        `(largest |logit| ${maxAbs.toFixed(2)})`,
    );
  }
  for (const [name, e] of Object.entries(engines)) {
    for (const [batch, conc] of [
      [1, 1],
      [1, 4],
      [8, 2],
    ]) {
      const r = await measure(e, model, batch, conc);
      console.log(
        `${model} ${name}: batch ${batch}, concurrency ${conc}: ${r.rate.toFixed(1)} inf/s, p50 ${r.p50.toFixed(2)} ms`,
      );
    }
    await e.close();
  }
}
