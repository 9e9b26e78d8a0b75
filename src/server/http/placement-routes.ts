/**
 * tenancy's placement endpoint: GET /v2/placement shows where every model's instances run (and,
 * in auto mode, what the controller sees) and the memory of the server, each model and each
 * instance, measured or estimated (engine/memory-figures.ts); PUT /v2/placement moves the named models live, or is
 * refused with the reason (400) when the placement does not fit the devices.
 */
import type { FastifyInstance } from 'fastify';
import { preview } from '../../preview.js';
import { errors } from '../../errors.js';
import type { PlacementEntry } from '../../placement/index.js';
import { jsonObject, type HttpContext } from './http-context.js';

export function placementRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const manager = () => {
    if (!ctx.placement)
      throw errors.modelNotReady('placement', 'unavailable', 'this server was started without a placement manager');
    return ctx.placement;
  };
  app.get('/v2/placement', async () => {
    const m = manager();
    return { ...m.view(), memory: m.memory() };
  });
  app.put('/v2/placement', async (req) => {
    const body = jsonObject(req.body, 'placement');
    return manager().set(entriesOf(body.entries));
  });
}

/** Entries in one placement, at most: one per model and device is all a placement needs. */
const MAX_ENTRIES = 1024;

function entriesOf(raw: unknown): PlacementEntry[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw errors.invalidArg(
      `placement: "entries" must be a non-empty array of {model, device, instances, threads}, got ${preview(raw)}`,
    );
  if (raw.length > MAX_ENTRIES)
    throw errors.invalidArg(
      `placement: "entries" holds ${raw.length} entries, more than this server takes (at most ${MAX_ENTRIES})`,
    );
  return raw.map((e, i) => {
    if (typeof e !== 'object' || e === null)
      throw errors.invalidArg(`placement: entries[${i}] must be an object, got ${preview(e)}`);
    const { model, device, instances, threads } = e as Record<string, unknown>;
    if (typeof model !== 'string' || typeof device !== 'string')
      throw errors.invalidArg(`placement: entries[${i}] needs "model" and "device" strings, got ${preview(e)}`);
    return {
      model,
      device,
      instances: instances as number,
      threads: (threads ?? 1) as number,
      batching: null,
      expectedThroughput: 0,
    };
  });
}
