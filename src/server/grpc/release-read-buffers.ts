/**
 * Lets go of the request's HTTP/2 read buffers as soon as a unary call's message is decoded.
 * grpc-js's per-call StreamDecoder keeps the last message's DATA frames (views into the socket-read
 * ArrayBuffers: ~600 KB for a MobileNet input) until the next message on the stream, which a unary
 * call never gets, so they live through queueing and inference. Measured: at concurrency 8, V8
 * then saw half of each scavenge's young ArrayBuffer bytes survive it and ran a full collection
 * ("external memory pressure") every 3-4 scavenges. This touches grpc-js internals (1.14): a
 * decoder that is not where or what it expects is left alone, and only one idle between messages.
 */
interface DecoderInternals {
  readState?: number;
  readPartialMessage?: unknown[];
  readCompressFlag?: Buffer;
}

interface CallInternals {
  decoder?: DecoderInternals;
  nextCall?: CallInternals;
}

/** grpc-js's StreamDecoder state between messages. */
const NO_DATA = 0;

export function releaseReadBuffers(call: unknown): boolean {
  let c = (call as { call?: CallInternals } | null)?.call;
  for (let depth = 0; c && depth < 4; depth++, c = c.nextCall) {
    const d = c.decoder;
    if (!d) continue;
    if (d.readState !== NO_DATA || !Array.isArray(d.readPartialMessage)) return false;
    d.readPartialMessage = [];
    d.readCompressFlag = Buffer.alloc(1);
    return true;
  }
  return false;
}
