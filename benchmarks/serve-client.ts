/**
 * The load generator of bench:serve, in its own process (as perf_analyzer is: the client never
 * runs inside the server). Forked by benchmarks/serve.ts with the server's addresses in argv; it
 * runs one closed loop (measureClosedLoop) per IPC message ({mode, concurrency, seconds}) with the
 * package's own clients (HTTP keep-alive agent, one gRPC channel, one ModelStreamInfer stream on
 * it) and answers with the measured Sample, latencies included, and its own CPU use.
 */
import { GrpcClient, HttpClient, SharedMemoryRegion, type ClientInferResult } from '../src/client/index.js';
import type { TensorMap } from '../src/tensor.js';
import {
  benchInputs,
  measureClosedLoop,
  MODEL,
  type Infer,
  type LoadRequest,
  type Mode,
  type Sample,
} from './serve-load.js';

const [httpAddress, grpcAddress] = process.argv.slice(2);
if (!httpAddress || !grpcAddress || !process.send) {
  console.error('usage: forked by benchmarks/serve.ts with <http url> <grpc address>');
  process.exit(2);
}
const http = new HttpClient(httpAddress);
const grpc = new GrpcClient(grpcAddress);
// One ModelStreamInfer call for the whole run, as a tritonclient with start_stream() has.
const stream = grpc.stream();
const inputs = benchInputs();

/**
 * The shared-memory modes: one /dev/shm object with a slot per request in flight. Each request
 * writes its input into a free slot (as a client with a new picture each time would; perf_analyzer
 * writes once) and names the slot; the output comes back in the response.
 */
const SLOTS = 64;
const slotBytes = (inputs.input.data as Float32Array).byteLength;
const shm = SharedMemoryRegion.create(`/tenancy-bench-serve-${process.pid}`, SLOTS * slotBytes);
const free = Array.from({ length: SLOTS }, (_, i) => i);
await http.registerSystemSharedMemory('bench-input', shm.key, SLOTS * slotBytes);
function viaSharedMemory(send: (x: TensorMap, slot: number) => Promise<ClientInferResult>): Infer {
  return async (x) => {
    const slot = free.pop();
    if (slot === undefined) throw new Error(`more than ${SLOTS} requests in flight`);
    try {
      shm.write(x.input, slot * slotBytes);
      return await send(x, slot);
    } finally {
      free.push(slot);
    }
  };
}
const shmInput = (x: TensorMap, slot: number) => ({
  sharedMemory: {
    inputs: {
      input: {
        datatype: x.input.datatype,
        shape: x.input.shape,
        region: 'bench-input',
        byteSize: slotBytes,
        offset: slot * slotBytes,
      },
    },
  },
});

const loops: Record<Exclude<Mode, 'in-process'>, Infer> = {
  'HTTP binary': (x) => http.infer(MODEL, x, { binary: true }),
  'HTTP JSON': (x) => http.infer(MODEL, x, { binary: false }),
  gRPC: (x) => grpc.infer(MODEL, x),
  'gRPC stream': (x) => stream.infer(MODEL, x),
  'HTTP shm': viaSharedMemory((x, slot) => http.infer(MODEL, {}, { binary: true, ...shmInput(x, slot) })),
  'gRPC shm': viaSharedMemory((x, slot) => grpc.infer(MODEL, {}, shmInput(x, slot))),
};

process.on('message', (msg: LoadRequest | { stop: true }) => {
  if ('stop' in msg) {
    shm.destroy();
    stream.cancel();
    http.close();
    grpc.close();
    process.disconnect();
    return;
  }
  void (async () => {
    const infer = loops[msg.mode as Exclude<Mode, 'in-process'>];
    let sample: Sample | { error: string };
    try {
      if (!infer) throw new Error(`the client does not run mode ${msg.mode}`);
      sample = await measureClosedLoop(infer, inputs, msg.concurrency, msg.seconds);
    } catch (err) {
      sample = { error: (err as Error).message };
    }
    process.send!(sample);
  })();
});
process.send({ ready: true });
