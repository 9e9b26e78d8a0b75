/** Metadata: GET /v2 (server, with extensions), model metadata, and the model configuration extension. */
import type { FastifyInstance } from 'fastify';
import { modelConfig, modelMetadata, serverMetadata } from '../oip/metadata.js';
import type { HttpContext, ModelParams } from './http-context.js';

export function metadataRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get('/v2', async () => serverMetadata(ctx.shm !== null));
  for (const prefix of ['/v2/models/:model', '/v2/models/:model/versions/:version']) {
    app.get<{ Params: ModelParams }>(prefix, async (req) =>
      modelMetadata(ctx.engine, req.params.model, req.params.version),
    );
    app.get<{ Params: ModelParams }>(`${prefix}/config`, async (req) =>
      modelConfig(ctx.engine, req.params.model, req.params.version),
    );
  }
}
