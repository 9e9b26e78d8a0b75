// A raw onnxruntime-node session in a worker thread, running closed loop with no engine at all:
// the ceiling that bench:batching compares tenancy against. Plain JS so it needs no loader.
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

const { file, threads, batch, inputName, dims } = workerData;
const session = await ort.InferenceSession.create(file, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
});
const shape = [batch, ...dims];
const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => Math.random() - 0.5);
const feeds = { [inputName]: new ort.Tensor('float32', data, shape) };
for (let i = 0; i < 3; i++) await session.run(feeds); // warm-up
parentPort.postMessage({ type: 'ready' });
parentPort.on('message', async ({ until }) => {
  let runs = 0;
  while (Date.now() < until) {
    await session.run(feeds);
    runs++;
  }
  parentPort.postMessage({ type: 'done', inferences: runs * batch });
});
