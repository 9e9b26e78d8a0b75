/** The gRPC server: loads the service definition, binds, and shuts down letting calls finish. */
import type http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { BodyPool } from '../../protocol/body-pool.js';
import { pooledRawInputs, type GrpcInferRequest } from './codec.js';
import { loadInferenceService } from '../../protocol/grpc-proto.js';
import { inferenceHandlers } from './service.js';
import { OpenStreams, streamInferHandler } from './stream-infer.js';
import { guarded, scanInferRequest } from './message-scan.js';
import { SHUTDOWN_GRACE_MS, type ServeContext } from '../context.js';
import { GRPC_API_GROUPS, type RestrictedApis } from '../restricted-apis.js';
import { grpcError } from '../error-status.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../connection-limits.js';

/** TLS for the gRPC server, as tritonserver's --grpc-server-cert, --grpc-server-key, --grpc-root-cert. */
export interface GrpcTls {
  /** Certificate chain and private key, PEM. */
  cert: string | Buffer;
  key: string | Buffer;
  /** CA certificates that client certificates are checked against (mutual TLS). */
  rootCert?: string | Buffer;
  /** Require and check a client certificate (--grpc-use-ssl-mutual). */
  mutual?: boolean;
}

export async function startGrpcServer(
  ctx: ServeContext,
  host: string,
  port: number,
  maxMessageBytes: number,
  tls: GrpcTls | null = null,
  limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
): Promise<{ port: number; close(): Promise<void> }> {
  const service = loadInferenceService();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': -1,
    'grpc.max_connection_idle_ms': limits.grpcIdleTimeoutMs,
  });
  widenFlowControl(server);
  const pool = new BodyPool();
  // Every method's message is decoded behind a guard (message-scan.ts): one that cannot be taken
  // reaches the handler as a refusal, answered INVALID_ARGUMENT. Both inference methods are
  // counted on the wire first, then decode raw inputs into pooled buffers.
  const definition: grpc.ServiceDefinition = Object.fromEntries(
    Object.entries(service.service).map(([name, m]) => {
      const infer = name === 'ModelInfer' || name === 'ModelStreamInfer';
      const decode = infer
        ? pooledRawInputs(m.requestDeserialize as (b: Buffer) => GrpcInferRequest, pool)
        : m.requestDeserialize;
      return [name, { ...m, requestDeserialize: guarded(decode, infer ? scanInferRequest : undefined) }];
    }),
  );
  const streams = new OpenStreams();
  server.addService(
    definition,
    restrict(ctx.restricted, {
      ...inferenceHandlers(ctx, pool),
      ModelStreamInfer: streamInferHandler(ctx, pool, streams),
    }),
  );
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials(tls), (err, p) => (err ? reject(err) : resolve(p))),
  );
  for (const h2 of http2Servers(server)) {
    h2.maxConnections = limits.grpcMaxConnections;
    h2.on('session', (session: http2.Http2Session) => {
      try {
        session.setLocalWindowSize(FLOW_CONTROL_WINDOW);
      } catch {
        // a session that is already closing keeps its window
      }
      // A client that never sends the HTTP/2 preface and SETTINGS is not a client: cut it off.
      const handshake = setTimeout(() => session.destroy(), limits.headersTimeoutMs);
      session.once('remoteSettings', () => clearTimeout(handshake));
      session.once('close', () => clearTimeout(handshake));
    });
  }
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
        streams.drainAll();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

/**
 * HTTP/2 flow control sized for tensors. grpc-js leaves the server's receive windows at HTTP/2's
 * 64 KiB, so a 600 KB request crosses in ten window-sized bursts, each waiting for a WINDOW_UPDATE
 * from this (busy) event loop, and 16 KiB frames mean ~37 'data' events per tensor. The server
 * offers 16 MiB windows (per stream and per connection) and accepts frames of up to 16 MiB.
 * grpc-js has no option for these: its private http2 server options and servers are used when
 * present, and a grpc-js without them just keeps the defaults.
 */
const FLOW_CONTROL_WINDOW = 16 * 2 ** 20;
const MAX_FRAME_SIZE = 2 ** 24 - 1;

interface GrpcServerInternals {
  commonServerOptions?: { settings?: http2.Settings };
  http2Servers?: Map<http2.Http2Server, unknown>;
}

function widenFlowControl(server: grpc.Server): void {
  const options = (server as unknown as GrpcServerInternals).commonServerOptions;
  if (options)
    options.settings = { ...options.settings, initialWindowSize: FLOW_CONTROL_WINDOW, maxFrameSize: MAX_FRAME_SIZE };
}

function http2Servers(server: grpc.Server): http2.Http2Server[] {
  const servers = (server as unknown as GrpcServerInternals).http2Servers;
  return servers instanceof Map ? [...servers.keys()] : [];
}

function credentials(tls: GrpcTls | null): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const root = tls.rootCert === undefined ? null : Buffer.from(tls.rootCert);
  const pair = { private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) };
  return grpc.ServerCredentials.createSsl(root, [pair], tls.mutual ?? false);
}

/**
 * Wraps each method whose API group is restricted: a call without the key in its metadata ends
 * at once with Triton's UNAVAILABLE "This protocol is restricted", before its handler runs.
 */
function restrict(restricted: RestrictedApis, handlers: Record<string, grpc.UntypedHandleCall>) {
  if (restricted.empty) return handlers;
  const wrapped: Record<string, grpc.UntypedHandleCall> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const group = GRPC_API_GROUPS[name];
    if (!group) throw new Error(`gRPC method ${name} has no API group (restricted-apis.ts)`);
    if (!restricted.required(group)) {
      wrapped[name] = handler;
      continue;
    }
    wrapped[name] = (
      call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
      ...rest: unknown[]
    ) => {
      const refused = restricted.refusal(group, (key) => {
        const v = call.metadata.get(key)[0];
        return v === undefined ? undefined : String(v);
      });
      if (!refused) return (handler as (...a: unknown[]) => void)(call, ...rest);
      const status = grpcError(refused);
      const callback = rest[0] as grpc.sendUnaryData<unknown> | undefined;
      if (typeof callback === 'function') return callback(status);
      (call as grpc.ServerDuplexStream<unknown, unknown>).emit('error', status);
    };
  }
  return wrapped;
}
