/** The gRPC server: loads the service definition, binds, and shuts down letting calls finish. */
import * as grpc from '@grpc/grpc-js';
import type { ServeContext } from '../context.js';
import { loadInferenceService } from './proto.js';
import { inferenceHandlers } from './service.js';

/** After this long a graceful shutdown stops waiting for calls. */
const SHUTDOWN_GRACE_MS = 30_000;

export async function startGrpcServer(ctx: ServeContext, host: string, port: number, maxMessageBytes: number): Promise<{ port: number; close(): Promise<void> }> {
  const service = loadInferenceService();
  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': -1 });
  server.addService(service.service, inferenceHandlers(ctx));
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
