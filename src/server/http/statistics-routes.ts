/** The statistics extension: GET /v2/models/stats, /v2/models/{m}/stats, /v2/models/{m}/versions/{v}/stats. */
import type { FastifyInstance } from 'fastify';
import { statistics } from '../oip/metadata.js';
import type { HttpContext, ModelParams } from './http-context.js';

export function statisticsRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get('/v2/models/stats', async () => statistics(ctx.engine));
  app.get<{ Params: ModelParams }>('/v2/models/:model/stats', async (req) => statistics(ctx.engine, req.params.model));
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/stats', async (req) =>
    statistics(ctx.engine, req.params.model, req.params.version),
  );
}
