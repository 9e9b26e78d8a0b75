/**
 * Starts the front ends over one engine: HTTP/REST, gRPC and metrics, each on its own port (0 picks
 * a free one; null leaves that server off). close() stops accepting and lets in-flight requests
 * finish; closing the engine stays with the caller, who owns it.
 */
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { PlacementManager, type Engine } from '../engine/index.js';
import { buildHttpApp, DEFAULT_BODY_LIMIT } from './http/app.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits.js';
import { drainHttp } from './http/drain.js';
import { createMetricsRegistry, createMetricsServer } from './metrics.js';
import { startGrpcServer } from './grpc/server.js';
import type { ModelControlMode } from './oip/model-control.js';
import { SystemSharedMemory } from './oip/shm-registry.js';
import { RestrictedApis, TRANSPORTS, type Restriction } from './restricted-apis.js';
import type { TlsFiles } from './http/app.js';
import type { GrpcTls } from './grpc/server.js';
import type { DashboardOptions } from './http/dashboard-routes.js';

export { DEFAULT_BODY_LIMIT } from './http/app.js';
export { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits.js';
export { MODEL_CONTROL_MODES, type ModelControlMode } from './oip/model-control.js';
export { httpError, grpcError } from './error-status.js';
export { API_GROUPS, parseRestriction, type ApiGroup, type Restriction } from './restricted-apis.js';
export type { TlsFiles } from './http/app.js';
export type { GrpcTls } from './grpc/server.js';

export interface ServerOptions {
  /** Interface to listen on; default 127.0.0.1 (use 0.0.0.0 to serve other machines). */
  host?: string;
  /** Default 8000; 0 = any free port; null = no HTTP server. */
  httpPort?: number | null;
  /** Default 8001; 0 = any free port; null = no gRPC server. */
  grpcPort?: number | null;
  /** Default 8002; 0 = any free port; null = no metrics server. */
  metricsPort?: number | null;
  /** Largest request accepted, bytes (HTTP body and gRPC message); default 64 MiB. */
  bodyLimit?: number;
  /** "none" (default): the models are fixed at start; "explicit": the repository extension may load and unload. */
  modelControlMode?: ModelControlMode;
  /** Serves GET/PUT /v2/placement; default: a manual placement manager over the engine's devices. */
  placement?: PlacementManager;
  /**
   * Lets clients register system shared-memory regions and pass tensors through them (Triton's
   * --allow-client-shm); default false. A client may then read any shared-memory object of this
   * server's user, so turn it on only for clients you trust.
   */
  allowClientShm?: boolean;
  /** HTTP connection timeouts and the connection cap; default DEFAULT_CONNECTION_LIMITS. */
  connections?: Partial<ConnectionLimits>;
  /**
   * API groups that answer only requests carrying a key header (Triton's --http-restricted-api and
   * --grpc-restricted-protocol): a group in none is open to anyone who reaches the port.
   */
  restrictedHttp?: Restriction[];
  restrictedGrpc?: Restriction[];
  /** Ready only when every model is ready (default true, as tritonserver's --strict-readiness). */
  strictReadiness?: boolean;
  /** Serve HTTPS with this certificate and key (default: plain HTTP). */
  httpTls?: TlsFiles;
  /** Serve gRPC over TLS (Triton's --grpc-use-ssl and friends; default: insecure). */
  grpcTls?: GrpcTls;
  /**
   * How long a closing HTTP server keeps reading idle connections to answer them 503; default 200
   * ms (http/drain.ts).
   */
  drainLingerMs?: number;
  /** The live dashboard on the HTTP port under /dashboard (docs/dashboard.md); false: off. Default on. */
  dashboard?: DashboardOptions | false;
}

export interface RunningServers {
  /** Bound ports (null for a server left off). */
  httpPort: number | null;
  grpcPort: number | null;
  metricsPort: number | null;
  host: string;
  /** Stops accepting, waits for in-flight requests, closes the listeners. Idempotent. */
  close(): Promise<void>;
}

export async function startServers(engine: Engine, options: ServerOptions = {}): Promise<RunningServers> {
  const host = options.host ?? '127.0.0.1';
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const modelControlMode = options.modelControlMode ?? 'none';
  let closing = false;
  const placement = options.placement ?? new PlacementManager(engine);
  const shm = options.allowClientShm ? new SystemSharedMemory('/dev/shm', bodyLimit) : null;
  const connections = { ...DEFAULT_CONNECTION_LIMITS, ...options.connections };
  const closers: (() => Promise<void>)[] = [];
  const strictReadiness = options.strictReadiness ?? true;
  // While the engine starts (Engine.starting: the ports open before the loads, as `tenancy serve`
  // and `start` do), GET /v2/health/ready and gRPC ServerReady say not ready, strict or not.
  const starting = () => engine.starting;
  // Checked before a port opens: a flag with a group restricted twice stops the start.
  const restrictedHttp = new RestrictedApis(options.restrictedHttp, TRANSPORTS.http, '--http-restricted-api');
  const restrictedGrpc = new RestrictedApis(options.restrictedGrpc, TRANSPORTS.grpc, '--grpc-restricted-protocol');
  const result: RunningServers = { httpPort: null, grpcPort: null, metricsPort: null, host, close: async () => {} };
  try {
    const httpPort = pick(options.httpPort, 8000);
    if (httpPort !== null) {
      const app = buildHttpApp(
        {
          engine,
          modelControlMode,
          closing: () => closing,
          placement,
          shm,
          restricted: restrictedHttp,
          strictReadiness,
          starting,
        },
        bodyLimit,
        connections,
        options.httpTls ?? null,
        options.dashboard === false ? null : (options.dashboard ?? {}),
      );
      const drain = drainHttp(app, options.drainLingerMs);
      await app.listen({ host, port: httpPort });
      result.httpPort = (app.server.address() as AddressInfo).port;
      closers.push(drain);
    }
    const grpcPort = pick(options.grpcPort, 8001);
    if (grpcPort !== null) {
      const grpc = await startGrpcServer(
        {
          engine,
          modelControlMode,
          closing: () => closing,
          placement,
          shm,
          restricted: restrictedGrpc,
          strictReadiness,
          starting,
        },
        host,
        grpcPort,
        bodyLimit,
        options.grpcTls ?? null,
        connections,
      );
      result.grpcPort = grpc.port;
      closers.push(() => grpc.close());
    }
    const metricsPort = pick(options.metricsPort, 8002);
    if (metricsPort !== null) {
      const server = createMetricsServer(createMetricsRegistry(engine, options.placement?.tuner), connections);
      await new Promise<void>((resolve, reject) =>
        server.once('error', reject).listen(metricsPort, host, () => resolve()),
      );
      result.metricsPort = (server.address() as AddressInfo).port;
      closers.push(() => closeHttp(server));
    }
  } catch (err) {
    await Promise.allSettled(closers.map((c) => c()));
    throw err;
  }
  let closed: Promise<void> | undefined;
  result.close = () => {
    closing = true;
    placement.stop();
    // The requests in flight are the last: none of them waits for a fuller batch.
    engine.flushQueues();
    // Regions stay registered until the last in-flight request has read and written them.
    closed ??= Promise.all(closers.map((c) => c())).then(() => shm?.close());
    return closed;
  };
  return result;
}

function pick(v: number | null | undefined, fallback: number): number | null {
  return v === undefined ? fallback : v;
}

function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
