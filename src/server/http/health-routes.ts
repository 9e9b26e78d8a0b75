/** Health: server live and ready, model ready. 200 when yes, 400 when not, as Triton answers. */
import type { FastifyInstance } from 'fastify';
import { modelReady, serverReady } from '../oip/metadata.js';
import type { HttpContext, ModelParams } from './http-context.js';

export function healthRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get('/v2/health/live', async (_req, reply) => reply.code(200).send());
  app.get('/v2/health/ready', async (_req, reply) => reply.code(serverReady(ctx) ? 200 : 400).send());
  const ready = async (req: { params: ModelParams }, reply: { code(n: number): { send(): unknown } }) =>
    reply.code(modelReady(ctx.engine, req.params.model, req.params.version) ? 200 : 400).send();
  app.get<{ Params: ModelParams }>('/v2/models/:model/ready', ready);
  app.get<{ Params: ModelParams }>('/v2/models/:model/versions/:version/ready', ready);
}
