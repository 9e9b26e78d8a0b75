/**
 * The HTTP server's graceful shutdown. Stopping the listener and dropping idle keep-alive
 * connections at once (what fastify's close does) reset every request sent just after SIGTERM
 * (20 of 20 here, 50 of 50 by hand): the request was already on its way, or in the socket's buffer
 * unread, when its connection was destroyed. Here, once the server is closing (app.ts answers new
 * requests 503 with Connection: close):
 *  1. for `lingerMs` the connections and the listener stay open, so whatever arrives, on an idle
 *     keep-alive connection or a new one, is read and answered 503 (and its connection closed);
 *  2. then the idle keep-alive connections are closed, while the listener still answers 503 to a
 *     client that reconnects, until
 *  3. the requests in flight have been answered (or SHUTDOWN_GRACE_MS has passed, as Triton's
 *     --exit-timeout-secs); then fastify closes the listener and whatever connections are left.
 * A request sent at the very moment an idle connection closes can still meet the close: that race
 * belongs to HTTP/1.1 keep-alive itself (RFC 9112, 9.3), and the linger moves it away from the
 * moment of the signal, when clients do not know yet.
 */
import type { Socket } from 'node:net';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { SHUTDOWN_GRACE_MS } from '../context.js';

/** Default time a closing server keeps reading its idle connections. */
export const DRAIN_LINGER_MS = 200;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts requests in flight on `app` from now on; the returned function drains and closes it. */
export function drainHttp(app: FastifyInstance, lingerMs = DRAIN_LINGER_MS): () => Promise<void> {
  let inFlight = 0;
  let connections = 0;
  let idle: (() => void) | null = null;
  app.server.on('connection', (socket: Socket) => {
    connections++;
    socket.once('close', () => connections--);
  });
  app.server.on('request', (_req, res: ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });
  let closed: Promise<void> | undefined;
  return () =>
    (closed ??= (async () => {
      if (connections > 0 && lingerMs > 0) await sleep(lingerMs);
      app.server.closeIdleConnections();
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        const late = await new Promise<boolean>((resolve) => {
          idle = () => resolve(false);
          timer = setTimeout(() => resolve(true), SHUTDOWN_GRACE_MS);
        });
        clearTimeout(timer);
        if (late) app.server.closeAllConnections();
      }
      await app.close();
    })());
}
