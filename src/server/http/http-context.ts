/** Shared pieces of the HTTP plugins: their context, route params, optional JSON bodies. */
import { errors } from '../../errors.js';
import type { ServeContext } from '../context.js';

export type HttpContext = ServeContext;

/** Parses an optional JSON object body (repository routes); an empty body is {}. */
export function jsonObject(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined || (Buffer.isBuffer(body) && body.length === 0)) return {};
  let v: unknown;
  try {
    v = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : String(body));
  } catch (err) {
    throw errors.invalidArg(`${what}: the body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw errors.invalidArg(`${what}: the body must be a JSON object`);
  return v as Record<string, unknown>;
}

export interface ModelParams {
  model: string;
  version?: string;
}
