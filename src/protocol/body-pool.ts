/**
 * Reusable buffers for request bodies (HTTP) and raw tensor contents (gRPC), shared by the
 * transports. Why: a body lives while its request waits in the queue, long enough to be promoted
 * to V8's old generation, and a stream of fresh 600 KB buffers there forces a full mark-compact
 * every few requests (measured at concurrency 8 on MobileNet V2 inputs: ~15 per 100 requests,
 * about 1 ms of main-thread time per request). A reused buffer is no new external memory, so it
 * triggers no collection.
 */
export class BodyPool {
  private free: ArrayBuffer[] = [];
  private bytes = 0;
  private readonly taken = new WeakSet<Uint8Array>();

  /** `maxBytes`: the most kept for reuse (default 64 MiB); more is left to the garbage collector. */
  constructor(private readonly maxBytes = 64 * 2 ** 20) {}

  /**
   * A buffer of `n` bytes starting `shift` bytes into a pooled ArrayBuffer (shift lets a caller
   * align what follows a header). A free ArrayBuffer is reused when it holds n + shift to twice that.
   */
  take(n: number, shift = 0): Buffer {
    const want = n + shift;
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i].byteLength;
      if (size >= want && size <= 2 * want && (best < 0 || size < this.free[best].byteLength)) best = i;
    }
    let ab: ArrayBuffer;
    if (best < 0) ab = new ArrayBuffer(want);
    else {
      [ab] = this.free.splice(best, 1);
      this.bytes -= ab.byteLength;
    }
    const view = Buffer.from(ab, shift, n);
    this.taken.add(view);
    return view;
  }

  /**
   * Gives back a buffer from take(); anything else is ignored, and so is a second give. Every
   * view of its memory must be dead: the next take() overwrites it.
   */
  give(view: unknown): void {
    if (!(view instanceof Uint8Array) || !this.taken.delete(view)) return;
    const ab = view.buffer as ArrayBuffer;
    if (ab.byteLength === 0 || ab.byteLength > this.maxBytes) return;
    // Full: the oldest free buffers leave, not this one. Keeping the old ones instead would pin the
    // pool to an earlier workload's sizes (say, JSON bodies), and every body of the current one
    // would then be a fresh allocation: measured, a full mark-compact every ~120 ms under load.
    while (this.bytes + ab.byteLength > this.maxBytes) this.bytes -= this.free.shift()!.byteLength;
    this.free.push(ab);
    this.bytes += ab.byteLength;
  }

  /** Bytes held for reuse. */
  get heldBytes(): number {
    return this.bytes;
  }
}
