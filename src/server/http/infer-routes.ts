/**
 * POST /v2/models/{m}[/versions/{v}]/infer: JSON tensors, or the binary tensor data extension when
 * the request carries Inference-Header-Content-Length or asks for binary outputs. A client that
 * disconnects cancels its request. The response is compressed when Accept-Encoding asks for gzip or
 * deflate (compression.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeHttpInfer } from '../oip/decode.js';
import { encodeHttpInfer } from '../oip/encode.js';
import { runInference } from '../oip/infer.js';
import { HEADER_LENGTH } from '../../protocol/binary-data.js';
import { compress, responseCoding } from '../../protocol/compression.js';
import type { HttpContext, ModelParams } from './http-context.js';
import type { BodyPool } from '../../protocol/body-pool.js';

const EMPTY = Buffer.alloc(0);

export function inferRoutes(app: FastifyInstance, ctx: HttpContext, pool: BodyPool): void {
  const handler = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    let out: ReturnType<typeof encodeHttpInfer>;
    try {
      const decoded = decodeHttpInfer((req.body as Buffer | undefined) ?? EMPTY, req.headers[HEADER_LENGTH]);
      const ac = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableFinished) ac.abort();
      };
      reply.raw.once('close', onClose);
      try {
        out = encodeHttpInfer(
          await runInference(ctx.engine, req.params.model, req.params.version, decoded, {
            signal: ac.signal,
            shm: ctx.shm,
          }),
        );
      } finally {
        reply.raw.off('close', onClose);
      }
    } finally {
      // The request has ended: the scheduler's copy went to the instance, the input views are dead.
      pool.give(req.body);
    }
    const coding = responseCoding(req.headers['accept-encoding']);
    const body = coding ? await compress(coding, out.body) : out.body;
    if (coding) reply.header('content-encoding', coding);
    reply.header('vary', 'accept-encoding');
    if (out.headerLength === undefined) return reply.type('application/json; charset=utf-8').send(body);
    // the uncompressed JSON header's length: the client inflates, then splits
    return reply
      .header('Inference-Header-Content-Length', out.headerLength)
      .type('application/octet-stream')
      .send(body);
  };
  app.post<{ Params: ModelParams }>('/v2/models/:model/infer', handler);
  app.post<{ Params: ModelParams }>('/v2/models/:model/versions/:version/infer', handler);
}
