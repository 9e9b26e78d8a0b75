/**
 * Builds the HTTP/REST server: one fastify instance, the protocol's routes, Triton's error bodies
 * (`{"error": "..."}`, status from error-status.ts) for every failure including fastify's own
 * (body too large, unknown route).
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { isTenancyError } from '../../errors.js';
import { httpError } from '../error-status.js';
import type { HttpContext } from './http-context.js';
import { bodyReader } from './body.js';
import { BodyPool } from '../../protocol/body-pool.js';
import { healthRoutes } from './health-routes.js';
import { metadataRoutes } from './metadata-routes.js';
import { inferRoutes } from './infer-routes.js';
import { repositoryRoutes } from './repository-routes.js';
import { statisticsRoutes } from './statistics-routes.js';
import { placementRoutes } from './placement-routes.js';
import { sharedMemoryRoutes } from './shm-routes.js';
import { dashboardRoutes, type DashboardOptions } from './dashboard-routes.js';
import { dashboardCredential } from '../dashboard/credential.js';
import { httpApiGroup } from '../restricted-apis.js';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from '../connection-limits.js';

/** Default request body limit: room for a batch of large images as JSON. */
export const DEFAULT_BODY_LIMIT = 64 * 2 ** 20;

/** Answers a request that arrives while the server drains. */
const SHUTTING_DOWN = { error: 'the server is shutting down: it takes no new requests' };

/** A certificate chain and its private key, PEM. */
export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
}

export function buildHttpApp(
  ctx: HttpContext,
  bodyLimit = DEFAULT_BODY_LIMIT,
  limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS,
  tls: TlsFiles | null = null,
  /** The live dashboard under /dashboard; null: none. */
  dashboard: DashboardOptions | null = null,
): FastifyInstance {
  const app = Fastify({
    // HTTPS when a certificate is given; the server is then an https.Server with the same API.
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    bodyLimit,
    logger: false,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node checks the header and request timeouts on this interval (30 s by default).
    http: {
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    // The drain is ours (startServers): fastify's close runs only once the requests in flight are done.
    return503OnClosing: false,
  });
  app.server.maxConnections = limits.maxConnections;
  // Bodies are read as bytes, with binary tensor data aligned (body.ts says why).
  app.removeAllContentTypeParsers();
  const pool = new BodyPool();
  app.addContentTypeParser('*', bodyReader(bodyLimit, pool));

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (isTenancyError(err) || !err.statusCode) {
      const { status, body } = httpError(err);
      return reply.code(status).send(body);
    }
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `request body is larger than the limit of ${bodyLimit} bytes`
        : err.message;
    return reply.code(err.statusCode).send({ error: message });
  });
  // While the server drains, a request that arrives is answered 503 at once (health excepted:
  // live stays 200, ready turns 400), and every response closes its connection, so that no
  // keep-alive connection holds the exit up or takes a request that would then be reset.
  app.addHook('onRequest', async (req, reply) => {
    if (ctx.closing() && !req.url.startsWith('/v2/health/')) {
      // The body still on its way is read and dropped first: a 503 and a close while the client
      // still writes a large body reach it as a broken pipe (EPIPE), not as an answer.
      if (!req.raw.complete) {
        const read = new Promise((r) => req.raw.once('end', r).once('close', r));
        req.raw.resume();
        await read;
      }
      return reply.code(503).header('connection', 'close').send(SHUTTING_DOWN);
    }
    if (ctx.restricted.empty) return;
    const group = httpApiGroup(req.url);
    if (group === null) return; // no such endpoint: the 404 follows
    const refused = ctx.restricted.refusal(group, (key) => {
      const v = req.headers[key];
      // A browser cannot send a header with the page: the dashboard's key may come as its cookie.
      return (Array.isArray(v) ? v[0] : v) ?? (group === 'dashboard' ? dashboardCredential(req.raw, key) : undefined);
    });
    if (refused) {
      const { status, body } = httpError(refused);
      return reply.code(status).send(body);
    }
  });
  app.addHook('onSend', async (_req, reply) => {
    if (ctx.closing()) reply.header('connection', 'close');
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` }),
  );

  app.addHook('onRoute', (route) => {
    if (httpApiGroup(route.url) === null) throw new Error(`route ${route.url} has no API group (restricted-apis.ts)`);
  });
  healthRoutes(app, ctx);
  metadataRoutes(app, ctx);
  inferRoutes(app, ctx, pool);
  repositoryRoutes(app, ctx);
  statisticsRoutes(app, ctx);
  placementRoutes(app, ctx);
  sharedMemoryRoutes(app, ctx);
  if (dashboard) dashboardRoutes(app, ctx, dashboard);
  return app;
}
