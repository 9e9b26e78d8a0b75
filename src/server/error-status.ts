/**
 * The one mapping from tenancy's ErrorCode to HTTP and gRPC status codes, after Triton's
 * (http_server.cc HttpCodeFromError, grpc_utils GrpcStatusCodeFromError): invalid and cancelled
 * requests are 400, a restricted API without its key 403, unknown models 404, anything the
 * server cannot do now 503 (Triton reports a queue timeout and a full queue as UNAVAILABLE),
 * internal failures 500.
 */
import { toWire, type ErrorCode } from '../errors.js';

// gRPC's status codes are fixed by the gRPC spec; named here so only grpc/ imports grpc-js.
const GrpcStatus = { CANCELLED: 1, INVALID_ARGUMENT: 3, NOT_FOUND: 5, INTERNAL: 13, UNAVAILABLE: 14 } as const;

const HTTP: Record<ErrorCode, number> = {
  INVALID_ARG: 400,
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  UNAVAILABLE: 503,
  QUEUE_FULL: 503,
  TIMEOUT: 503,
  CANCELLED: 400,
  INSTANCE_FAILED: 500,
  INTERNAL: 500,
};

export const GRPC_STATUS: Record<ErrorCode, number> = {
  INVALID_ARG: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  FORBIDDEN: GrpcStatus.UNAVAILABLE,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  QUEUE_FULL: GrpcStatus.UNAVAILABLE,
  TIMEOUT: GrpcStatus.UNAVAILABLE,
  CANCELLED: GrpcStatus.CANCELLED,
  INSTANCE_FAILED: GrpcStatus.INTERNAL,
  INTERNAL: GrpcStatus.INTERNAL,
};

export interface ErrorReply {
  status: number;
  body: { error: string };
}

/** Any thrown value → HTTP status and Triton's error body `{"error": "..."}`. */
export function httpError(err: unknown): ErrorReply {
  const w = toWire(err);
  return { status: HTTP[w.code] ?? 500, body: { error: w.message } };
}

/** Any thrown value → a gRPC status code and message. */
export function grpcError(err: unknown): { code: number; details: string } {
  const w = toWire(err);
  return { code: GRPC_STATUS[w.code] ?? GrpcStatus.INTERNAL, details: w.message };
}
