import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadInferenceService } from '../../src/protocol/grpc-proto.js';
import { releaseReadBuffers } from '../../src/server/grpc/release-read-buffers.js';

/**
 * The decoded message's frames grpc-js still holds for a call (its internals, as
 * release-read-buffers.ts reads them).
 */
function heldFrames(call: unknown): number {
  let c = (call as { call?: { decoder?: { readPartialMessage?: unknown[] }; nextCall?: unknown } }).call;
  for (let i = 0; c && i < 4; i++) {
    if (c.decoder) return c.decoder.readPartialMessage?.length ?? -1;
    c = c.nextCall as typeof c;
  }
  return -1;
}

test('a unary call lets go of its request frames once decoded (grpc-js internals still where expected)', async () => {
  const Service = loadInferenceService();
  const seen: { before: number; released: boolean; after: number }[] = [];
  const server = new grpc.Server();
  server.addService(Service.service, {
    ModelReady: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      const before = heldFrames(call);
      const released = releaseReadBuffers(call);
      seen.push({ before, released, after: heldFrames(call) });
      cb(null, { ready: true });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const client = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client &
    Record<string, (req: unknown, cb: (err: Error | null, res: { ready: boolean }) => void) => void>;
  try {
    const res = await new Promise<{ ready: boolean }>((resolve, reject) =>
      client.ModelReady({ name: 'm'.repeat(1000) }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    assert.equal(res.ready, true, 'the call still completes');
    assert.equal(seen.length, 1);
    assert.ok(seen[0].before > 0, `grpc-js held the request's frames (${seen[0].before})`);
    assert.equal(seen[0].released, true);
    assert.equal(seen[0].after, 0);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test('releaseReadBuffers leaves anything it does not recognise alone', () => {
  assert.equal(releaseReadBuffers(null), false);
  assert.equal(releaseReadBuffers({}), false);
  const midMessage = { call: { decoder: { readState: 2, readPartialMessage: [Buffer.alloc(4)] } } };
  assert.equal(releaseReadBuffers(midMessage), false);
  assert.equal(midMessage.call.decoder.readPartialMessage.length, 1, 'a decoder inside a message keeps its frames');
});
