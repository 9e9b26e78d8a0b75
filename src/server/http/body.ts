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
 * has ended (other routes leave theirs to the garbage collector). A compressed body
 * (Content-Encoding gzip or deflate, compression.ts) is inflated on the way in.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { errorCodes, type FastifyRequest } from 'fastify';
import { HEADER_LENGTH } from '../../protocol/binary-data.js';
import type { BodyPool } from '../../protocol/body-pool.js';
import {
  badCompressedBody,
  inflated,
  inflatedTooLarge,
  requestCoding,
  type Coding,
} from '../../protocol/compression.js';

type Done = (err: Error | null, body?: Buffer) => void;

/** Bodies up to this many declared bytes get their buffer at once (from the pool); larger ones as they arrive. */
const EAGER_BYTES = 2 ** 20;

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
    let coding: Coding | null;
    try {
      coding = requestCoding(req.headers['content-encoding']);
    } catch (err) {
      return done(err as Error);
    }
    if (coding) return collect(inflated(payload, coding, limit), limit, headerLength, done, coding);
    // A large declared length is not taken on trust: 1000 connections declaring 64 MiB each and
    // sending 10 bytes held the event loop ~5 s allocating. Above EAGER_BYTES the body is
    // collected as it arrives (Node's parser ends it at exactly Content-Length bytes).
    if (!(Number.isSafeInteger(declared) && declared >= 0) || declared > EAGER_BYTES)
      return collect(payload, limit, headerLength, done, null);
    readKnownLength(payload, declared, limit, pool, shiftFor(headerLength, declared), done);
  };
}

/** Handlers for one body stream; each reading ends at the first of them that finishes it. */
interface BodyEvents {
  data(chunk: Buffer, stop: () => void): void;
  end(): void;
  error(err: Error & { statusCode?: number; code?: string }): void;
}

function readStream(source: Readable, on: BodyEvents): void {
  const stop = () => {
    source.off('data', onData);
    source.off('end', onEnd);
    source.off('error', onError);
  };
  const onData = (chunk: Buffer) => on.data(chunk, stop);
  const onEnd = () => {
    stop();
    on.end();
  };
  const onError = (err: Error) => {
    stop();
    on.error(err);
  };
  source.on('data', onData);
  source.on('end', onEnd);
  source.on('error', onError);
}

/** Known length: one pooled buffer, filled as the chunks arrive. */
function readKnownLength(
  payload: IncomingMessage,
  declared: number,
  limit: number,
  pool: BodyPool,
  shift: number,
  done: Done,
): void {
  const body = pool.take(declared, shift);
  let received = 0;
  readStream(payload, {
    data(chunk, stop) {
      received += chunk.length;
      if (received > limit) {
        stop();
        pool.give(body);
        return done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      }
      if (received <= declared) chunk.copy(body, received - chunk.length);
    },
    end() {
      if (received === declared) return done(null, body);
      pool.give(body);
      done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    },
    error(err) {
      pool.give(body);
      done(clientError(err));
    },
  });
}

/**
 * Unknown length (chunked, or inflated from a compressed body): collect the chunks up to the
 * limit, then place them once, aligned.
 */
function collect(
  source: Readable,
  limit: number,
  headerLength: string | string[] | undefined,
  done: Done,
  coding: Coding | null,
): void {
  const chunks: Buffer[] = [];
  let received = 0;
  readStream(source, {
    data(chunk, stop) {
      received += chunk.length;
      if (received > limit) {
        stop();
        if (coding) source.destroy(); // stop inflating: the rest of the body is never expanded
        return done(coding ? inflatedTooLarge(coding, limit) : new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      }
      chunks.push(chunk);
    },
    end() {
      const s = shiftFor(headerLength, received);
      const whole = Buffer.allocUnsafeSlow(received + s);
      let o = s;
      for (const c of chunks) o += c.copy(whole, o);
      done(null, whole.subarray(s));
    },
    error(err) {
      // zlib's errors carry a Z_* code: the body is not what its Content-Encoding says
      done(coding && err.code?.startsWith('Z_') ? badCompressedBody(coding, err) : clientError(err));
    },
  });
}

/** A stream error while reading a body is the client's (an aborted upload): a 4xx. */
function clientError(err: Error & { statusCode?: number }): Error {
  if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
  return err;
}
