/**
 * The load generator of bench:serve, in its own process (as perf_analyzer is: the client never
 * runs inside the server). Forked by bench/serve.ts with the server's addresses in argv; it runs
 * one closed loop per IPC message ({mode, concurrency, seconds}) with the package's own
 * clients (HTTP keep-alive agent, one gRPC channel) and answers with the measured Sample,
 * latencies included, and its own CPU use.
 */
import { GrpcClient, HttpClient } from '../src/client/index.js';
import { benchInputs, closedLoop, MODEL, type Infer, type LoadRequest, type Mode, type Sample } from './serve-load.js';

const [httpAddress, grpcAddress] = process.argv.slice(2);
if (!httpAddress || !grpcAddress || !process.send) {
  console.error('usage: forked by bench/serve.ts with <http url> <grpc address>');
  process.exit(2);
}
const http = new HttpClient(httpAddress);
const grpc = new GrpcClient(grpcAddress);
const inputs = benchInputs();

const loops: Record<Exclude<Mode, 'in-process'>, Infer> = {
  'HTTP binary': (x) => http.infer(MODEL, x, { binary: true }),
  'HTTP JSON': (x) => http.infer(MODEL, x, { binary: false }),
  gRPC: (x) => grpc.infer(MODEL, x),
};

process.on('message', (msg: LoadRequest | { stop: true }) => {
  if ('stop' in msg) {
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
      sample = await closedLoop(infer, inputs, msg.concurrency, msg.seconds);
    } catch (err) {
      sample = { error: (err as Error).message };
    }
    process.send!(sample);
  })();
});
process.send({ ready: true });
