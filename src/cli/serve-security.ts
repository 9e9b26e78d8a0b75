/**
 * `tenancy serve`'s flags for a server on a network, named as tritonserver names them: restricted
 * API groups that need a key header, and TLS for gRPC (--grpc-use-ssl, --grpc-server-cert,
 * --grpc-server-key, --grpc-root-cert, --grpc-use-ssl-mutual) and for HTTP (tritonserver has no
 * HTTPS; the flags follow its gRPC ones: --http-use-ssl, --http-server-cert, --http-server-key).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { API_GROUPS, parseRestriction, type Restriction, type ServerOptions } from '../server/index.js';
import { errors } from '../errors.js';
import { usageError } from './arguments.js';

export interface SecurityFlags {
  httpRestrictedApi: Restriction[];
  grpcRestrictedProtocol: Restriction[];
  httpUseSsl?: boolean;
  httpServerCert?: string;
  httpServerKey?: string;
  grpcUseSsl?: boolean;
  grpcServerCert?: string;
  grpcServerKey?: string;
  grpcRootCert?: string;
  grpcUseSslMutual?: boolean;
}

function restriction(flag: string) {
  return (v: string, prev: Restriction[]): Restriction[] => {
    try {
      return [...prev, parseRestriction(v, flag)];
    } catch (err) {
      throw usageError((err as Error).message);
    }
  };
}

export function addSecurityOptions(cmd: Command): Command {
  const groups = API_GROUPS.join(', ');
  return cmd
    .option(
      '--http-restricted-api <groups:key=value>',
      'HTTP API groups that answer only requests with header key: value, ' +
        `e.g. model-repository,shared-memory,placement:admin-key=SECRET (repeatable; groups: ${groups})`,
      restriction('--http-restricted-api'),
      [] as Restriction[],
    )
    .option(
      '--grpc-restricted-protocol <groups:key=value>',
      'gRPC API groups that answer only calls with metadata triton-grpc-protocol-<key>: value ' +
        '(repeatable; same groups)',
      restriction('--grpc-restricted-protocol'),
      [] as Restriction[],
    )
    .option('--http-use-ssl', 'serve HTTPS (needs --http-server-cert and --http-server-key)')
    .option('--http-server-cert <file>', 'HTTPS certificate chain, PEM')
    .option('--http-server-key <file>', 'HTTPS private key, PEM')
    .option('--grpc-use-ssl', 'serve gRPC over TLS (needs --grpc-server-cert and --grpc-server-key)')
    .option('--grpc-server-cert <file>', 'gRPC TLS certificate chain, PEM')
    .option('--grpc-server-key <file>', 'gRPC TLS private key, PEM')
    .option('--grpc-root-cert <file>', 'CA certificates, PEM, that client certificates are checked against')
    .option('--grpc-use-ssl-mutual', 'require a client certificate signed by --grpc-root-cert (mutual TLS)');
}

/** The flags as server options; files are read here, and a wrong flag or file ends the command in one line (exit 2). */
export async function securityOptions(f: SecurityFlags): Promise<Partial<ServerOptions>> {
  const out: Partial<ServerOptions> = { restrictedHttp: f.httpRestrictedApi, restrictedGrpc: f.grpcRestrictedProtocol };
  if (f.httpUseSsl) {
    if (!f.httpServerCert || !f.httpServerKey)
      throw errors.invalidArg('--http-use-ssl needs --http-server-cert <file> and --http-server-key <file>');
    out.httpTls = {
      cert: await pem(f.httpServerCert, '--http-server-cert'),
      key: await pem(f.httpServerKey, '--http-server-key'),
    };
  } else if (f.httpServerCert || f.httpServerKey)
    throw errors.invalidArg('--http-server-cert and --http-server-key need --http-use-ssl');
  if (f.grpcUseSsl) {
    if (!f.grpcServerCert || !f.grpcServerKey)
      throw errors.invalidArg('--grpc-use-ssl needs --grpc-server-cert <file> and --grpc-server-key <file>');
    if (f.grpcUseSslMutual && !f.grpcRootCert)
      throw errors.invalidArg('--grpc-use-ssl-mutual needs --grpc-root-cert <file>');
    out.grpcTls = {
      cert: await pem(f.grpcServerCert, '--grpc-server-cert'),
      key: await pem(f.grpcServerKey, '--grpc-server-key'),
      ...(f.grpcRootCert ? { rootCert: await pem(f.grpcRootCert, '--grpc-root-cert') } : {}),
      mutual: f.grpcUseSslMutual ?? false,
    };
  } else if (f.grpcServerCert || f.grpcServerKey || f.grpcRootCert || f.grpcUseSslMutual)
    throw errors.invalidArg(
      '--grpc-server-cert, --grpc-server-key, --grpc-root-cert and --grpc-use-ssl-mutual need --grpc-use-ssl',
    );
  return out;
}

async function pem(file: string, flag: string): Promise<Buffer> {
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw errors.invalidArg(`${flag}: cannot read ${file} (${err.code ?? err.message})`);
  });
  if (!bytes.includes('-----BEGIN '))
    throw errors.invalidArg(`${flag}: ${file} is not a PEM file (no "-----BEGIN" line)`);
  return bytes;
}
