/**
 * Entry point inside a host: a worker thread (parentPort) or a child process (process.send).
 * Loads one session, warms it, then answers run messages one at a time, in the order they came:
 * the engine may send the next run while one is running, and it waits here, not in a round trip.
 */
import { parentPort } from 'node:worker_threads';
import { toWire } from '../errors.js';
import type { TensorMap } from '../tensor.js';
import { createOrtSession, writeSharedWeightsModel } from './ort-session.js';
import { createSimSession } from './sim-session.js';
import { preciseNow, type FromHost, type ToHost } from './host-protocol.js';
import type { Session } from './session.js';

type Send = (msg: FromHost, transfer?: ArrayBuffer[]) => void;

const send: Send = parentPort
  ? (msg, transfer) => parentPort!.postMessage(msg, transfer ?? [])
  : (msg) => process.send!(msg);

let session: Session | null = null;

async function onMessage(msg: ToHost): Promise<void> {
  if (msg.type === 'load') {
    // A load after a failed one (the instance falls back to a private copy) starts clean.
    await session?.dispose().catch(() => {});
    session = null;
    try {
      const t0 = preciseNow();
      session = msg.simulated ? createSimSession(msg.simulated) : await createOrtSession(msg.file, msg.session);
      const t1 = preciseNow();
      send({ type: 'loaded' });
      for (const sample of msg.warmup) for (let i = 0; i < sample.runs; i++) await session.run(sample.inputs);
      const t2 = preciseNow();
      send({
        type: 'ready',
        inputs: session.inputs,
        outputs: session.outputs,
        loadMs: t1 - t0,
        warmupMs: t2 - t1,
        pid: process.pid,
        rssBytes: process.memoryUsage.rss(),
      });
    } catch (err) {
      await session?.dispose().catch(() => {});
      session = null;
      send({ type: 'load-failed', error: toWire(err) });
    }
  } else if (msg.type === 'prepare') {
    try {
      await writeSharedWeightsModel(msg.source, msg.target);
      send({ type: 'prepared' });
    } catch (err) {
      send({ type: 'prepared', error: toWire(err) });
    }
  } else if (msg.type === 'run') {
    try {
      if (!session) throw new Error('run before load');
      const computeStart = preciseNow();
      const outputs = await session.run(msg.inputs, msg.outputs);
      const computeEnd = preciseNow();
      const out = transferables(outputs);
      // A worker thread hands the inputs' buffers back for the next batch (a process cannot).
      const returned = parentPort ? ownedInputs(msg.inputs, out) : [];
      send(
        { type: 'result', id: msg.id, outputs, computeStart, computeEnd, ...(returned.length ? { returned } : {}) },
        [...out, ...returned],
      );
    } catch (err) {
      send({ type: 'failed', id: msg.id, error: toWire(err) });
    }
  } else if (msg.type === 'close') {
    await session?.dispose().catch(() => {});
    session = null;
    if (parentPort) parentPort.close();
    else process.disconnect?.();
  }
}

/** Output buffers move to the engine instead of being copied; a view over part of a buffer is copied first. */
function transferables(outputs: TensorMap): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const t of Object.values(outputs)) {
    if (Array.isArray(t.data)) continue;
    let data = t.data;
    if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || !(data.buffer instanceof ArrayBuffer)) {
      data = data.slice() as typeof data;
      t.data = data;
    }
    if (!list.includes(data.buffer as ArrayBuffer)) list.push(data.buffer as ArrayBuffer);
  }
  return list;
}

/** Input buffers this thread owns whole (transferred to it), none shared with an output. */
function ownedInputs(inputs: TensorMap, outputs: ArrayBuffer[]): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const t of Object.values(inputs)) {
    if (Array.isArray(t.data) || !(t.data.buffer instanceof ArrayBuffer)) continue;
    const ab = t.data.buffer;
    if (t.data.byteOffset === 0 && t.data.byteLength === ab.byteLength && !outputs.includes(ab) && !list.includes(ab))
      list.push(ab);
  }
  return list;
}

// One message at a time: a run that arrives during another starts when that one has answered.
let queue: Promise<void> = Promise.resolve();
const enqueue = (m: ToHost) => {
  queue = queue.then(() => onMessage(m));
};
if (parentPort) parentPort.on('message', enqueue);
else process.on('message', enqueue);
