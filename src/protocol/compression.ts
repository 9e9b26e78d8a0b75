/**
 * HTTP compression of inference bodies, as Triton and its clients do it (tritonclient's
 * request_compression_algorithm and response_compression_algorithm, "gzip" or "deflate"):
 * - a request body sent with Content-Encoding gzip or deflate is inflated before anything reads
 *   it, and the body limit applies to the inflated bytes, so a small compressed body cannot fill
 *   memory; any other coding gets 415 Unsupported Media Type, as RFC 7694 has it;
 * - an infer response is compressed when the request's Accept-Encoding allows gzip or deflate.
 * Inference-Header-Content-Length always counts the uncompressed JSON header: the receiver
 * inflates first, then splits. Compression runs on libuv's thread pool, off the event loop.
 */
import type { IncomingMessage } from 'node:http';
import { preview } from '../preview.js';
import type { Transform } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

export type Coding = 'gzip' | 'deflate';
export const CODINGS: readonly Coding[] = ['gzip', 'deflate'];

/** An error the HTTP error handler answers with its own status and message. */
function httpError(statusCode: number, message: string): Error & { statusCode: number } {
  return Object.assign(new Error(message), { statusCode });
}

/**
 * A Content-Encoding header read: null for none (or identity), the coding, or the header's text
 * when it is one this module cannot undo (the caller says so in its own words).
 */
function contentCoding(header: string | string[] | undefined): Coding | null | { unsupported: string } {
  if (header === undefined) return null;
  const value = (Array.isArray(header) ? header.join(', ') : header).trim().toLowerCase();
  if (value === '' || value === 'identity') return null;
  if ((CODINGS as readonly string[]).includes(value)) return value as Coding;
  if (value === 'x-gzip') return 'gzip'; // RFC 9110: a recipient should treat it as gzip
  return { unsupported: value };
}

/** The request's Content-Encoding: null for none (or identity); throws 415 for one we cannot inflate. */
export function requestCoding(header: string | string[] | undefined): Coding | null {
  const coding = contentCoding(header);
  if (coding === null || typeof coding === 'string') return coding;
  throw httpError(
    415,
    `unsupported Content-Encoding ${preview(coding.unsupported)}: send the body as it is, or with gzip or deflate`,
  );
}

/**
 * The request body, inflated; the payload's own errors (a client gone) end the inflated stream
 * too. The compressed bytes count against the limit as well: a chunked body of empty deflate
 * blocks would otherwise stream forever without inflating to anything.
 */
export function inflated(payload: IncomingMessage, coding: Coding, limit: number): Transform {
  const inflater = coding === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
  let received = 0;
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= limit) return;
    payload.off('data', count);
    inflater.destroy(
      httpError(
        413,
        `request body is larger than the limit of ${limit} bytes (Content-Encoding: ${coding}, before inflating)`,
      ),
    );
  };
  payload.on('data', count);
  payload.once('error', (err) => inflater.destroy(err));
  return payload.pipe(inflater);
}

/** What a failed inflate tells the client (400: the body is wrong, not the server). */
export function badCompressedBody(coding: Coding, err: Error): Error & { statusCode: number } {
  return httpError(400, `request body is not valid ${coding} data (Content-Encoding: ${coding}): ${err.message}`);
}

export function inflatedTooLarge(coding: Coding, limit: number): Error & { statusCode: number } {
  return httpError(413, `request body inflates to more than the limit of ${limit} bytes (Content-Encoding: ${coding})`);
}

/**
 * The coding to answer with, from Accept-Encoding: gzip, else deflate, that the client accepts
 * (q > 0; "*" counts for both); null when it accepts neither.
 */
export function responseCoding(header: string | string[] | undefined): Coding | null {
  if (header === undefined) return null;
  const accepted = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    accepted.set(name, Number.isFinite(weight) ? weight : 0);
  }
  for (const c of CODINGS) {
    const q = accepted.get(c) ?? accepted.get('*');
    if (q !== undefined && q > 0) return c;
  }
  return null;
}

const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);
const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

export function compress(coding: Coding, body: Buffer | string): Promise<Buffer> {
  return coding === 'gzip' ? gzip(body) : deflate(body);
}

/** For clients: a response body as sent, inflated when its Content-Encoding says so. */
export async function decodeBody(body: Buffer, header: string | string[] | undefined): Promise<Buffer> {
  const coding = contentCoding(header);
  if (coding === null) return body;
  if (typeof coding !== 'string')
    throw new Error(
      `the server answered with Content-Encoding ${JSON.stringify(coding.unsupported)}, ` +
        'which this client cannot decode (it asks for gzip or deflate only)',
    );
  return coding === 'gzip' ? gunzip(body) : inflate(body);
}
