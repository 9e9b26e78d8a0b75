/** The model repository extension: POST /v2/repository/index, .../models/{m}/load, .../models/{m}/unload. */
import type { FastifyInstance } from 'fastify';
import { preview } from '../../preview.js';
import { errors } from '../../errors.js';
import { parameters } from '../oip/decode.js';
import { repositoryIndex } from '../oip/metadata.js';
import { base64File, loadModel, loadParameters, unloadModel } from '../oip/model-control.js';
import { jsonObject, type HttpContext } from './http-context.js';
import type { Parameters } from '../../protocol/types.js';

export function repositoryRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.post('/v2/repository/index', async (req) => {
    const body = jsonObject(req.body, 'repository index');
    if (body.ready !== undefined && typeof body.ready !== 'boolean')
      throw errors.invalidArg(`"ready" must be true or false, got ${preview(body.ready)}`);
    return repositoryIndex(ctx.engine, body.ready === true);
  });
  app.post<{ Params: { model: string } }>('/v2/repository/models/:model/load', async (req, reply) => {
    const name = req.params.model;
    const body = jsonObject(req.body, `load of model "${name}"`);
    const { params, files } = loadParameters<Parameters[string]>(
      name,
      parameters(body.parameters, 'load parameters'),
      base64File,
    );
    await loadModel(ctx.engine, ctx.modelControlMode, name, params, files);
    return reply.code(200).send();
  });
  app.post<{ Params: { model: string } }>('/v2/repository/models/:model/unload', async (req, reply) => {
    jsonObject(req.body, `unload of model "${req.params.model}"`);
    await unloadModel(ctx.engine, ctx.modelControlMode, req.params.model);
    return reply.code(200).send();
  });
}
