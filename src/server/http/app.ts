/**
 * Builds the HTTP/REST server: one fastify instance, the protocol's routes, Triton's error bodies
 * (`{"error": "..."}`, status from error-status.ts) for every failure including fastify's own
 * (body too large, unknown route).
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { isTenancyError } from '../../errors.js';
import { httpError } from '../error-status.js';
import type { HttpContext } from './context.js';
import { bodyReader } from './body.js';
import { BodyPool } from '../oip/body-pool.js';
import { healthRoutes } from './health.js';
import { metadataRoutes } from './metadata.js';
import { inferRoutes } from './infer.js';
import { repositoryRoutes } from './repository.js';
import { statisticsRoutes } from './statistics.js';
import { placementRoutes } from './placement.js';
import { sharedMemoryRoutes } from './shared-memory.js';

/** Default request body limit: room for a batch of large images as JSON. */
export const DEFAULT_BODY_LIMIT = 64 * 2 ** 20;

export function buildHttpApp(ctx: HttpContext, bodyLimit = DEFAULT_BODY_LIMIT): FastifyInstance {
  const app = Fastify({ bodyLimit, logger: false });
  // Bodies are read as bytes, with binary tensor data aligned (body.ts says why).
  app.removeAllContentTypeParsers();
  const pool = new BodyPool();
  app.addContentTypeParser('*', bodyReader(bodyLimit, pool));

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (isTenancyError(err) || !err.statusCode) {
      const { status, body } = httpError(err);
      return reply.code(status).send(body);
    }
    const message = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body is larger than the limit of ${bodyLimit} bytes` : err.message;
    return reply.code(err.statusCode).send({ error: message });
  });
  // A response finished while closing must not leave its keep-alive connection open: the server
  // would wait for the client's idle timeout (72 s by default) before it could exit.
  app.addHook('onSend', async (_req, reply) => {
    if (ctx.closing()) reply.header('connection', 'close');
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` }));

  healthRoutes(app, ctx);
  metadataRoutes(app, ctx);
  inferRoutes(app, ctx, pool);
  repositoryRoutes(app, ctx);
  statisticsRoutes(app, ctx);
  placementRoutes(app, ctx);
  sharedMemoryRoutes(app, ctx);
  return app;
}
