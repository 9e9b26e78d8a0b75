/** The connection limits of the HTTP, gRPC and metrics servers, with defaults for a box on a LAN. */

/**
 * How long a connection may take over each part of its life, and how many may be open. Node's
 * defaults suit a server behind a proxy, not one exposed on a LAN: a client sending its headers
 * slowly held its connection ~76 s (60 s, plus up to 30 s before the check ran), and one sending
 * its body slowly held it forever (fastify turns the request timeout off).
 */
export interface ConnectionLimits {
  /** Time to receive a request's headers, ms; then 408 and the connection closes. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body, ms (the inference after it is not counted). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open, ms. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are closed as they arrive. */
  maxConnections: number;
  /**
   * gRPC: how long a connection with no call may stay open, ms (then GOAWAY; clients reconnect on
   * their next call). A connection that has not opened its HTTP/2 session within headersTimeoutMs
   * is closed too: without both, a TCP connection that sends nothing was held forever.
   */
  grpcIdleTimeoutMs: number;
  /** gRPC: open connections at most. */
  grpcMaxConnections: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
  grpcIdleTimeoutMs: 300_000,
  grpcMaxConnections: 1024,
};
