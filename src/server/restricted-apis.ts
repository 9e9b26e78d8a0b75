/**
 * Restricted APIs, as tritonserver's --http-restricted-api and --grpc-restricted-protocol: a
 * group of endpoints (the model repository, shared memory, placement, ...) answers only requests
 * that carry a header (HTTP) or metadata entry (gRPC) with the configured key and value. Anyone
 * who can reach the port can still use the groups left open. Triton's wire is kept: a gRPC client
 * sends the key as metadata "triton-grpc-protocol-<key>", and a refusal is HTTP 403 "This API is
 * restricted, expecting header '<key>'" or gRPC UNAVAILABLE "This protocol is restricted, ...".
 */
import { timingSafeEqual } from 'node:crypto';
import { errors, TenancyError } from '../errors.js';

/** Triton's API groups, and tenancy's placement endpoint and dashboard. */
export const API_GROUPS = [
  'health',
  'metadata',
  'inference',
  'shared-memory',
  'model-config',
  'model-repository',
  'statistics',
  'trace',
  'logging',
  'placement',
  'dashboard',
] as const;
export type ApiGroup = (typeof API_GROUPS)[number];

export interface Restriction {
  groups: ApiGroup[];
  /** Header (metadata) name, lower case. */
  key: string;
  value: string;
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Parses one flag value, `<group>[,<group>...]:<key>=<value>`; `flag` names the flag in errors. */
export function parseRestriction(text: string, flag: string): Restriction {
  const colon = text.lastIndexOf(':', text.indexOf('='));
  const eq = text.indexOf('=', colon);
  if (colon <= 0 || eq < 0)
    throw errors.invalidArg(`${flag} must be <group>[,<group>...]:<key>=<value>, got "${text}"`);
  const groups = text.slice(0, colon).split(',');
  for (const g of groups)
    if (!(API_GROUPS as readonly string[]).includes(g))
      throw errors.invalidArg(`${flag}: unknown API group "${g}" (groups: ${API_GROUPS.join(', ')})`);
  const key = text.slice(colon + 1, eq).toLowerCase();
  const value = text.slice(eq + 1);
  if (!HEADER_NAME.test(key)) throw errors.invalidArg(`${flag}: "${key}" is not a valid header name`);
  if (value === '') throw errors.invalidArg(`${flag}: the value for header "${key}" is empty`);
  return { groups: groups as ApiGroup[], key, value };
}

/** How each transport carries the key and words its refusal. */
export const TRANSPORTS = {
  http: { prefix: '', what: 'API' },
  grpc: { prefix: 'triton-grpc-protocol-', what: 'protocol' },
} as const;

/** The restrictions of one transport, by group; a group restricted twice is an error. */
export class RestrictedApis {
  private readonly byGroup = new Map<ApiGroup, Restriction>();

  constructor(
    restrictions: readonly Restriction[] = [],
    private readonly transport: (typeof TRANSPORTS)[keyof typeof TRANSPORTS] = TRANSPORTS.http,
    flag = 'restricted API',
  ) {
    for (const r of restrictions)
      for (const g of r.groups) {
        if (this.byGroup.has(g)) throw errors.invalidArg(`${flag}: API group "${g}" is restricted twice`);
        this.byGroup.set(g, r);
      }
  }

  get empty(): boolean {
    return this.byGroup.size === 0;
  }

  /** The header (metadata key) a request of `group` must carry, or null when the group is open. */
  required(group: ApiGroup): string | null {
    const r = this.byGroup.get(group);
    return r ? this.transport.prefix + r.key : null;
  }

  /** Null when a request of `group` with these headers may go on; else the error that refuses it. */
  refusal(group: ApiGroup, header: (key: string) => string | undefined): TenancyError | null {
    const r = this.byGroup.get(group);
    if (!r) return null;
    const key = this.transport.prefix + r.key;
    const got = header(key);
    if (got !== undefined && sameSecret(got, r.value)) return null;
    return new TenancyError('FORBIDDEN', `This ${this.transport.what} is restricted, expecting header '${key}'`, {
      group,
    });
  }
}

/** Compares in time that does not depend on where the strings differ. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The group of an HTTP request from its path, or null for a path that is no endpoint (it gets the
 * 404). buildHttpApp refuses to register a route this does not place, so none is left open by a
 * forgotten line.
 */
export function httpApiGroup(url: string): ApiGroup | null {
  const path = url.split('?')[0];
  if (path === '/v2') return 'metadata';
  if (path.startsWith('/v2/health/')) return 'health';
  if (path.startsWith('/v2/repository/')) return 'model-repository';
  if (path.startsWith('/v2/systemsharedmemory/') || path.startsWith('/v2/cudasharedmemory/')) return 'shared-memory';
  if (path === '/v2/placement') return 'placement';
  if (path === '/dashboard' || path.startsWith('/dashboard/')) return 'dashboard';
  if (path.startsWith('/v2/trace/') || path === '/v2/trace') return 'trace';
  if (path === '/v2/logging') return 'logging';
  if (path === '/v2/models/stats') return 'statistics';
  const model = /^\/v2\/models\/[^/]+(?:\/versions\/[^/]+)?(\/[a-z]+)?$/.exec(path);
  if (!model) return null;
  const tail = model[1] ?? '';
  const groups: Record<string, ApiGroup> = {
    '': 'metadata',
    '/ready': 'health',
    '/infer': 'inference',
    '/config': 'model-config',
    '/stats': 'statistics',
    '/trace': 'trace',
  };
  return groups[tail] ?? null;
}

/** The group of each gRPC method, as Triton sorts them. */
export const GRPC_API_GROUPS: Record<string, ApiGroup> = {
  ServerLive: 'health',
  ServerReady: 'health',
  ModelReady: 'health',
  ServerMetadata: 'metadata',
  ModelMetadata: 'metadata',
  ModelInfer: 'inference',
  ModelStreamInfer: 'inference',
  ModelConfig: 'model-config',
  ModelStatistics: 'statistics',
  RepositoryIndex: 'model-repository',
  RepositoryModelLoad: 'model-repository',
  RepositoryModelUnload: 'model-repository',
  SystemSharedMemoryStatus: 'shared-memory',
  SystemSharedMemoryRegister: 'shared-memory',
  SystemSharedMemoryUnregister: 'shared-memory',
  CudaSharedMemoryStatus: 'shared-memory',
  CudaSharedMemoryRegister: 'shared-memory',
  CudaSharedMemoryUnregister: 'shared-memory',
  TraceSetting: 'trace',
  LogSettings: 'logging',
};
