/**
 * The client half of Triton's system shared-memory extension: a POSIX shared-memory object
 * (/dev/shm/<key> on Linux, what shm_open(key) opens) that this process writes inputs into and
 * reads outputs from, and the request parameters that point the server at it. The server must run
 * with --allow-client-shm, on the same machine.
 *
 * Usage: `const region = SharedMemoryRegion.create('/input0', bytes)`;
 * `client.registerSystemSharedMemory('in', '/input0', bytes)`; `region.write(tensor)`;
 * `client.infer(model, {}, { sharedMemory: { inputs: { input: { ...tensorMeta, region: 'in', byteSize } } } })`.
 */
import { closeSync, constants, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { tensorFromRaw, tensorToRaw, checkDataType } from '../protocol/tensor-wire.js';
import { readFully, shmObjectPath, writeFully } from '../protocol/shm-files.js';
import type { Tensor } from '../tensor.js';
import { bytesAsText, type SharedMemoryOutput, type SharedMemoryPlace } from './types.js';

/** The protocol's parameters for a tensor in shared memory. */
export function placeParameters(p: SharedMemoryPlace): Record<string, string | number> {
  return {
    shared_memory_region: p.region,
    shared_memory_byte_size: p.byteSize,
    ...(p.offset ? { shared_memory_offset: p.offset } : {}),
  };
}

/** A response output's parameters → where the server put it; undefined when it is not in shared memory. */
export function outputPlace(
  datatype: string,
  shape: number[],
  p: Record<string, unknown> | undefined,
): SharedMemoryOutput | undefined {
  if (typeof p?.shared_memory_region !== 'string') return undefined;
  return {
    datatype,
    shape,
    region: p.shared_memory_region,
    byteSize: Number(p.shared_memory_byte_size),
    offset: Number(p.shared_memory_offset ?? 0),
  };
}

export class SharedMemoryRegion {
  private constructor(
    readonly key: string,
    readonly byteSize: number,
    private fd: number | null,
    private readonly path: string,
  ) {}

  /** Creates (or opens and resizes) the shared-memory object `key` ("/name") with room for `byteSize` bytes. */
  static create(key: string, byteSize: number, root = '/dev/shm'): SharedMemoryRegion {
    const path = shmObjectPath(key, root);
    if (!path)
      throw new RangeError(
        `shared memory key must be a POSIX shared memory name such as "/input0", got ${JSON.stringify(key)}`,
      );
    if (!Number.isSafeInteger(byteSize) || byteSize <= 0)
      throw new RangeError(`byteSize must be an integer > 0, got ${byteSize}`);
    // As shm_open(O_CREAT | O_RDWR) does, readable and writable by this user only.
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    ftruncateSync(fd, byteSize);
    return new SharedMemoryRegion(key, byteSize, fd, path);
  }

  /** Writes raw bytes, or a tensor as the protocol lays it out, at `offset`; returns the bytes written. */
  write(data: Uint8Array | Tensor, offset = 0): number {
    const bytes = data instanceof Uint8Array ? data : tensorToRaw(data);
    if (offset + bytes.byteLength > this.byteSize)
      throw new RangeError(
        `${bytes.byteLength} bytes at offset ${offset} do not fit in ${this.key} (${this.byteSize} bytes)`,
      );
    writeFully(this.handle(), bytes, offset);
    return bytes.byteLength;
  }

  read(offset: number, byteSize: number): Buffer {
    const out = Buffer.allocUnsafeSlow(byteSize);
    const got = readFully(this.handle(), out, offset);
    if (got < byteSize) throw new RangeError(`${this.key} ended after ${offset + got} bytes`);
    return out;
  }

  /**
   * An output the server wrote here (the place its response gave), as the clients return outputs
   * (BYTES as strings); `regionOffset`: where the region was registered in this object.
   */
  readOutput(o: SharedMemoryOutput, regionOffset = 0): Tensor {
    const what = `shared memory output in region "${o.region}"`;
    return bytesAsText(
      tensorFromRaw(
        checkDataType(o.datatype, what),
        o.shape,
        this.read(regionOffset + (o.offset ?? 0), o.byteSize),
        what,
      ),
    );
  }

  /** Closes the object and removes it (unregister it from the server first). */
  destroy(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    try {
      unlinkSync(this.path);
    } catch {
      // already removed
    }
  }

  private handle(): number {
    if (this.fd === null) throw new Error(`shared memory region ${this.key} was destroyed`);
    return this.fd;
  }
}
