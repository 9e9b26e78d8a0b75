/**
 * The system shared-memory extension over HTTP: GET /v2/systemsharedmemory[/region/{name}]/status,
 * POST /v2/systemsharedmemory/region/{name}/register, POST /v2/systemsharedmemory[/region/{name}]/unregister.
 */
import type { FastifyInstance } from 'fastify';
import { allowedSharedMemory } from '../oip/shm-registry.js';
import { jsonObject, type HttpContext } from './http-context.js';

export function sharedMemoryRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const shm = () => allowedSharedMemory(ctx.shm);
  type Region = { Params: { name: string } };
  app.get('/v2/systemsharedmemory/status', async () => shm().status());
  app.get<Region>('/v2/systemsharedmemory/region/:name/status', async (req) => shm().status(req.params.name));
  app.post<Region>('/v2/systemsharedmemory/region/:name/register', async (req, reply) => {
    const body = jsonObject(req.body, `register of shared memory region "${req.params.name}"`);
    shm().register(req.params.name, body.key, body.offset, body.byte_size);
    return reply.code(200).send();
  });
  app.post('/v2/systemsharedmemory/unregister', async (_req, reply) => {
    shm().unregister();
    return reply.code(200).send();
  });
  app.post<Region>('/v2/systemsharedmemory/region/:name/unregister', async (req, reply) => {
    shm().unregister(req.params.name);
    return reply.code(200).send();
  });
}
