/** gRPC's InferParameter maps to plain values and back, as the client writes them and the server reads them. */
import type { Parameters } from './types.js';
import { checkCount, REQUEST_LIMITS } from './limits.js';

export interface GrpcParam {
  parameter_choice?: string;
  [k: string]: unknown;
}

/** InferParameter map → plain values (int64 strings become numbers). */
export function plainParameters(map: Record<string, GrpcParam> | undefined, what = 'parameters'): Parameters {
  const out: Parameters = {};
  const entries = Object.entries(map ?? {});
  checkCount(entries.length, REQUEST_LIMITS.parameters, what);
  for (const [k, p] of entries) {
    const choice = p.parameter_choice;
    if (!choice) continue;
    const v = p[choice];
    out[k] =
      choice === 'int64_param' || choice === 'uint64_param'
        ? Number(v)
        : Buffer.isBuffer(v)
          ? v.toString('utf8')
          : (v as string | number | boolean);
  }
  return out;
}

/** Plain values → InferParameter map (integers as int64_param). */
export function grpcParameters(p: Record<string, string | number | boolean>): Record<string, GrpcParam> {
  const out: Record<string, GrpcParam> = {};
  for (const [k, v] of Object.entries(p))
    out[k] =
      typeof v === 'boolean'
        ? { bool_param: v }
        : typeof v === 'string'
          ? { string_param: v }
          : Number.isInteger(v)
            ? { int64_param: v }
            : { double_param: v };
  return out;
}
