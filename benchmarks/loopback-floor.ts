/**
 * npm run bench:loopback-floor: what moving one MobileNet V2 input over loopback costs with nothing
 * else in the way, as a floor for bench:serve's remote modes. A bare server (drains the request,
 * holds it as long as an inference would, answers 4 KB, like the model's binary output) and a
 * bare client in a separate process, 8 requests in flight, the same 602 112-byte body as
 * bench:serve, over three stacks:
 *   node:http   HTTP/1.1 keep-alive, the stack under HttpClient and the fastify server;
 *   node:http2  one HTTP/2 session with gRPC's framing (5-byte prefix, grpc-status trailer) and
 *               16 MiB flow-control windows, as the gRPC server offers: the least a gRPC exchange
 *               costs in Node, whoever writes the gRPC layer;
 *   grpc-js     a unary call of bytes in and bytes out (no protobuf), same windows: the library
 *               under GrpcClient and the gRPC server, before any of our code;
 *   grpc-js stream  the same bytes as messages on one bidirectional call, as ModelStreamInfer
 *               carries them: no per-request HTTP/2 stream, headers or trailers.
 * Prints CPU milliseconds per request of each side, first on an idle machine, then with one busy
 * process per core beside it (as the inference workers are during bench:serve: on a full machine
 * every wake-up of the other side waits for, or preempts, a busy core).
 * Server and clients run with the server's heap flags (src/server/heap-flags.ts): without them,
 * a process that has loaded grpc-js runs a full mark-compact every ~50 ms under this load, which
 * tripled the node:http server's CPU per request here.
 * Options (env): FLOOR_SECONDS per measurement (default 3), FLOOR_STACKS (default all four),
 * FLOOR_HOLD_MS (default 40; see HOLD_MS), FLOOR_BODY (bytes, default 602 312).
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { missingHeapFlags } from '../src/server/heap-flags.js';

/** Request body, bytes: MobileNet V2's input by default; FLOOR_BODY=110792 is the text classifier's. */
const BODY = Number(process.env.FLOOR_BODY ?? 3 * 224 * 224 * 4 + 200);
const REPLY = Buffer.alloc(4000 + 150, 1);
const SECONDS = Number(process.env.FLOOR_SECONDS ?? 3);
const CONCURRENCY = 8;
/** The windows src/server/grpc/server.ts gives the gRPC server. */
const WINDOW = 16 * 2 ** 20;
const H2_SETTINGS: http2.Settings = { initialWindowSize: WINDOW, maxFrameSize: 2 ** 24 - 1 };
const STACKS = ['node:http', 'node:http2', 'grpc-js', 'grpc-js stream'] as const;
type Stack = (typeof STACKS)[number];
const METHOD = '/floor.Floor/Exchange';
const STREAM_METHOD = '/floor.Floor/Stream';
/**
 * How long the server holds each request before answering, like an inference would. The default,
 * 40 ms with 8 in flight, gives ~190 requests/s, bench:serve's rate on MobileNet V2 here, where
 * each request pays its own wake-ups. 0 answers at once: thousands of requests per second, where
 * one wake-up often serves several requests and the cost per request looks ~2x lower.
 */
const HOLD_MS = Number(process.env.FLOOR_HOLD_MS ?? 40);
const later = (answer: () => void) => (HOLD_MS > 0 ? setTimeout(answer, HOLD_MS) : answer());

interface ClientResult {
  count: number;
  userMs: number;
  sysMs: number;
}

interface Server {
  port: number;
  close(): void;
}

/** gRPC's length-prefixed message: a compression flag, a 4-byte length, the bytes. */
function grpcFrame(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(5 + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

const bytesMethod: grpc.MethodDefinition<Buffer, Buffer> = {
  path: METHOD,
  requestStream: false,
  responseStream: false,
  requestSerialize: (b) => b,
  requestDeserialize: (b) => b,
  responseSerialize: (b) => b,
  responseDeserialize: (b) => b,
};
const streamMethod: grpc.MethodDefinition<Buffer, Buffer> = {
  ...bytesMethod,
  path: STREAM_METHOD,
  requestStream: true,
  responseStream: true,
};

function widenSession(session: http2.Http2Session): void {
  try {
    session.setLocalWindowSize(WINDOW);
  } catch {
    // a session already closing keeps its window
  }
}

async function startServer(stack: Stack): Promise<Server> {
  if (stack.startsWith('grpc-js')) {
    const server = new grpc.Server();
    // the same private hook the gRPC server uses to offer wide windows
    const internals = server as unknown as {
      commonServerOptions?: { settings?: http2.Settings };
      http2Servers?: Map<http2.Http2Server, unknown>;
    };
    if (internals.commonServerOptions) internals.commonServerOptions.settings = H2_SETTINGS;
    server.addService(
      { Exchange: bytesMethod, Stream: streamMethod },
      {
        Exchange: (_call: unknown, done: grpc.sendUnaryData<Buffer>) => later(() => done(null, REPLY)),
        Stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          call.on('data', () => later(() => call.write(REPLY)));
          call.on('end', () => call.end());
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    for (const h2 of internals.http2Servers?.keys() ?? []) h2.on('session', widenSession);
    return { port, close: () => server.forceShutdown() };
  }
  const server =
    stack === 'node:http'
      ? http.createServer((req, res) => {
          req.on('data', () => {});
          req.on('end', () => later(() => res.end(REPLY)));
        })
      : http2
          .createServer({ settings: H2_SETTINGS })
          .on('session', widenSession)
          .on('stream', (stream) => {
            const reply = grpcFrame(REPLY);
            stream.on('data', () => {});
            stream.on('end', () => {
              later(() => {
                stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
                stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
                stream.end(reply);
              });
            });
          });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** One exchange per call, and a way to close the connection. */
function clientFor(stack: Stack, port: number): { one(): Promise<void>; close(): void } {
  const body = Buffer.alloc(BODY, 1);
  if (stack === 'node:http') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    return {
      one: () =>
        new Promise<void>((resolve, reject) => {
          const req = http.request(
            { port, method: 'POST', agent, headers: { 'content-length': body.length } },
            (res) => {
              res.on('data', () => {});
              res.on('end', resolve);
            },
          );
          req.on('error', reject);
          req.end(body);
        }),
      close: () => agent.destroy(),
    };
  }
  if (stack === 'node:http2') {
    const session = http2.connect(`http://127.0.0.1:${port}`, { settings: H2_SETTINGS });
    session.once('connect', () => widenSession(session));
    return {
      one: () =>
        new Promise<void>((resolve, reject) => {
          const stream = session.request({
            ':method': 'POST',
            ':path': METHOD,
            'content-type': 'application/grpc',
            te: 'trailers',
          });
          stream.on('data', () => {});
          stream.on('end', resolve);
          stream.on('error', reject);
          stream.end(grpcFrame(body));
        }),
      close: () => session.close(),
    };
  }
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  if (stack === 'grpc-js stream') {
    // one call for the whole run, messages each way; answers come back in order
    const call = client.makeBidiStreamRequest(
      STREAM_METHOD,
      streamMethod.requestSerialize,
      streamMethod.responseDeserialize,
    );
    const waiting: (() => void)[] = [];
    call.on('data', () => waiting.shift()?.());
    call.on('error', () => {}); // the cancel at close
    return {
      one: () =>
        new Promise<void>((resolve) => {
          waiting.push(resolve);
          call.write(body);
        }),
      close: () => {
        call.cancel();
        client.close();
      },
    };
  }
  return {
    one: () =>
      new Promise<void>((resolve, reject) => {
        client.makeUnaryRequest(METHOD, bytesMethod.requestSerialize, bytesMethod.responseDeserialize, body, (err) =>
          err ? reject(err) : resolve(),
        );
      }),
    close: () => client.close(),
  };
}

async function client(stack: Stack, port: number): Promise<void> {
  const { one, close } = clientFor(stack, port);
  await one(); // connected before the clock starts
  const cpu0 = process.cpuUsage();
  const until = Date.now() + SECONDS * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < until) {
        await one();
        count++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  close();
  process.send!({ count, userMs: cpu.user / 1000, sysMs: cpu.system / 1000 } satisfies ClientResult);
}

async function measure(stack: Stack, port: number, busy: number): Promise<string> {
  const spinners: ChildProcess[] = Array.from({ length: busy }, () => fork(self, ['spin']));
  await new Promise((r) => setTimeout(r, 200));
  const cpu0 = process.cpuUsage();
  const c = fork(self, ['client', stack, String(port)]);
  const r = await new Promise<ClientResult>((resolve) => c.once('message', (m) => resolve(m as ClientResult)));
  const cpu = process.cpuUsage(cpu0);
  for (const s of spinners) s.kill();
  const per = (ms: number) => (ms / r.count).toFixed(3);
  const server = (cpu.user + cpu.system) / 1000;
  return (
    `  ${busy === 0 ? 'idle machine    ' : `${busy} busy processes`}: ` +
    `${(r.count / SECONDS).toFixed(0).padStart(5)} requests/s; ms of CPU per request: ` +
    `server ${per(server)} (user ${per(cpu.user / 1000)}, sys ${per(cpu.system / 1000)}), ` +
    `client ${per(r.userMs + r.sysMs)} (user ${per(r.userMs)}, sys ${per(r.sysMs)}), ` +
    `both ${per(server + r.userMs + r.sysMs)}`
  );
}

const self = fileURLToPath(import.meta.url);
const [role, stackArg, portArg] = process.argv.slice(2);
if (role === 'spin') {
  // a busy core, like an inference worker; it looks up between bursts so that it ends with its
  // parent, however the parent ends
  process.once('disconnect', () => process.exit(0));
  for (;;) {
    const start = Date.now();
    while (Date.now() - start < 50);
    await new Promise((r) => setImmediate(r));
  }
} else if (role === 'client') {
  await client(stackArg as Stack, Number(portArg));
} else {
  const wanted = process.env.FLOOR_STACKS?.split(',').map((s) => s.trim()) ?? [...STACKS];
  const unknown = wanted.filter((s) => !(STACKS as readonly string[]).includes(s));
  if (unknown.length)
    throw new Error(
      `FLOOR_STACKS: unknown stack ${unknown.map((s) => JSON.stringify(s)).join(', ')} (known: ${STACKS.join(', ')})`,
    );
  const missing = missingHeapFlags();
  if (missing.length)
    console.log(
      `WARNING: started without ${missing.join(' ')} (use npm run bench:loopback-floor): ` +
        'figures include full collections a server does not run',
    );
  console.log(
    `bare servers and clients over loopback, ${BODY}-byte requests, ${REPLY.length}-byte replies, ` +
      `${CONCURRENCY} in flight, ${HOLD_MS ? `held ${HOLD_MS} ms, ` : ''}${SECONDS} s each; ` +
      `${os.cpus().length} cores, Node ${process.version}`,
  );
  for (const stack of STACKS.filter((s) => wanted.includes(s))) {
    const server = await startServer(stack);
    console.log(stack);
    console.log(await measure(stack, server.port, 0));
    console.log(await measure(stack, server.port, os.cpus().length));
    server.close();
  }
  process.exit(0); // grpc-js and http2 keep handles a moment after close
}
