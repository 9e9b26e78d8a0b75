// Concurrent model executions on the GPU (the device tool): instances 1, 2, 4 of a model on gpu:0,
// closed loop with two requests outstanding per instance, batch 1 and 8. Usage: node benchmarks/gpu-cme.mjs [seconds]
import os from 'node:os';
import { mkdtemp, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { inventory, cpuDevice } from '../dist/runtime/index.js';
import { Engine } from '../dist/engine/index.js';
import { writeZooModel } from '../dist/zoo/index.js';
import { textOrientationModelFile } from '../dist/default-repository.js';

const SECONDS = Number(process.argv[2] ?? 3);
const gpu = (await inventory({ probeModel: textOrientationModelFile() })).find((d) => d.id === 'gpu:0');
if (!gpu?.available) {
  console.log(`no GPU: ${gpu?.reason}`);
  process.exit(0);
}
for (const model of ['mobilenet_v2', 'resnet50']) {
  const repo = await mkdtemp(path.join(os.tmpdir(), 'gpu-cme-'));
  await writeZooModel(repo, model, { maxBatchSize: 16 });
  for (const count of [1, 2, 4]) {
    const file = path.join(repo, model, 'config.json');
    const config = JSON.parse(await readFile(file, 'utf8'));
    config.instance_group = [{ count, device: 'gpu:0' }];
    delete config.dynamic_batching;
    await writeFile(file, JSON.stringify(config));
    const engine = new Engine({ repository: repo, devices: [cpuDevice(), gpu] });
    await engine.loadAll();
    const row = engine.index()[0];
    if (row.state !== 'READY') {
      console.log(`${model} ${count} instance(s) on gpu:0: not loaded: ${row.reason}`);
      await engine.close();
      continue;
    }
    for (const batch of [1, 8]) {
      const feeds = {
        input: {
          datatype: 'FP32',
          shape: [batch, 3, 224, 224],
          data: new Float32Array(batch * 3 * 224 * 224).fill(0.1),
        },
      };
      const t0 = performance.now();
      let n = 0;
      await Promise.all(
        Array.from({ length: 2 * count }, async () => {
          while (performance.now() - t0 < SECONDS * 1000) {
            await engine.infer(model, feeds);
            n += batch;
          }
        }),
      );
      console.log(
        `${model} gpu:0 ${count} instance(s), batch ${batch}: ` +
          `${(n / ((performance.now() - t0) / 1000)).toFixed(1)} inf/s`,
      );
    }
    await engine.close();
  }
}
