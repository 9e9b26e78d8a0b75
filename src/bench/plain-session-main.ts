/**
 * The plain-session baseline's process: what a user would write instead of tenancy. One
 * onnxruntime-node session created with no options at all (the runtime's defaults), awaited in a
 * loop on the main thread. It imports onnxruntime-node itself, on purpose: none of tenancy's
 * session wrapper, hosts, scheduler or thread settings are in this path. The parent
 * (plain-session.ts) starts and stops the loop and takes the completions at each window's end.
 */
import ort from 'onnxruntime-node';
import type { PlainFromChild, PlainToChild, PlainTensor } from './plain-session-protocol.js';

let session: ort.InferenceSession | null = null;
let feeds: Record<string, ort.Tensor>[] = [];
let running: Promise<void> | null = null;
let stopping = false;
let latencies: number[] = [];

const send = (m: PlainFromChild) => process.send!(m);

function tensor(t: PlainTensor): ort.Tensor {
  return new ort.Tensor(t.type as 'float32', t.data as Float32Array, t.shape);
}

async function loop(): Promise<void> {
  let i = 0;
  while (!stopping) {
    const t0 = performance.now();
    await session!.run(feeds[i++ % feeds.length]);
    latencies.push(performance.now() - t0);
  }
}

async function onMessage(m: PlainToChild): Promise<void> {
  try {
    if (m.type === 'load') {
      session = await ort.InferenceSession.create(m.file);
      feeds = m.inputs.map((set) => Object.fromEntries(Object.entries(set).map(([name, t]) => [name, tensor(t)])));
      for (let i = 0; i < 3; i++) await session.run(feeds[i % feeds.length]);
      send({ type: 'loaded', rssBytes: process.memoryUsage.rss() });
    } else if (m.type === 'start') {
      stopping = false;
      latencies = [];
      running = loop();
      send({ type: 'started' });
    } else if (m.type === 'take') {
      send({
        type: 'taken',
        latenciesMs: latencies,
        atMs: performance.now(),
        cpuUs: cpuUs(),
        rssBytes: process.memoryUsage.rss(),
      });
      latencies = [];
    } else if (m.type === 'stop') {
      stopping = true;
      await running;
      running = null;
      send({ type: 'stopped' });
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
  }
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

process.on('message', (m: PlainToChild) => void onMessage(m));
process.on('disconnect', () => process.exit(0));
