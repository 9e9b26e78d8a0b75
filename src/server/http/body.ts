/**
 * Reads a request body into one buffer, for every route (fastify's content-type parser). Bodies
 * are bytes: an infer body may be JSON followed by binary tensor data, and a JSON error must come
 * back as the protocol's error whatever the Content-Type says.
 *
 * Why not fastify's `parseAs: 'buffer'`: that concatenates the chunks into a buffer that starts
 * anywhere, so a tensor behind a JSON header of, say, 107 bytes is unaligned and cannot be viewed
 * as Float32Array without another copy of the whole tensor. Here the buffer is allocated once
 * (from Content-Length) and the body placed in it so that the binary part (after the
 * Inference-Header-Content-Length bytes of JSON) starts on an 8-byte boundary: every numeric
 * tensor in it is a view, and the scheduler's copy to the instance is the only one.
 * Bodies of known length come from a BodyPool; the infer route gives them back when its request
 * has ended (other routes leave theirs to the garbage collector).
 */
import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyRequest } from 'fastify';
import { HEADER_LENGTH } from '../oip/binary-data.js';
import type { BodyPool } from '../oip/body-pool.js';

type Done = (err: Error | null, body?: Buffer) => void;

/** The largest element size: a binary part aligned to it suits every datatype. */
const ALIGN = 8;

/** Bytes to put before the body so that the binary part starts aligned (0 when there is none). */
function shiftFor(headerLength: string | string[] | undefined, bodyLength: number): number {
  if (headerLength === undefined || Array.isArray(headerLength)) return 0;
  const n = Number(headerLength);
  if (!Number.isSafeInteger(n) || n < 0 || n > bodyLength) return 0; // decode reports it
  return (ALIGN - (n % ALIGN)) % ALIGN;
}

export function bodyReader(limit: number, pool: BodyPool) {
  return (req: FastifyRequest, payload: IncomingMessage, done: Done): void => {
    const declared = req.headers['content-length'] === undefined ? NaN : Number(req.headers['content-length']);
    if (declared > limit) return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    const headerLength = req.headers[HEADER_LENGTH];
    const known = Number.isSafeInteger(declared) && declared >= 0;
    const shift = known ? shiftFor(headerLength, declared) : 0;
    // Known length: one buffer, filled as the chunks arrive. Chunked: collect, then place once.
    const body = known ? pool.take(declared, shift) : null;
    const chunks: Buffer[] = [];
    let received = 0;

    const stop = () => {
      payload.off('data', onData);
      payload.off('end', onEnd);
      payload.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        stop();
        return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      }
      if (!body) chunks.push(chunk);
      else if (received <= declared) chunk.copy(body, received - chunk.length);
    };
    const onEnd = () => {
      stop();
      if (body) {
        if (received !== declared) {
          pool.give(body);
          return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
        }
        return done(null, body);
      }
      const s = shiftFor(headerLength, received);
      const whole = Buffer.allocUnsafeSlow(received + s);
      let o = s;
      for (const c of chunks) o += c.copy(whole, o);
      done(null, whole.subarray(s));
    };
    const onError = (err: Error & { statusCode?: number }) => {
      stop();
      if (body) pool.give(body);
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      done(err);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
  };
}
