/**
 * Triton's system shared-memory extension: a local client puts tensors in a POSIX shared-memory
 * object (shm_open(key), which Linux keeps as /dev/shm/<key>), registers a region of it by name,
 * and then names the region in an input's or output's parameters instead of sending the bytes
 * over the socket. Both transports use this one registry.
 *
 * Node cannot map memory, so the server reads and writes a region through the object's file
 * descriptor (pread/pwrite on tmpfs): one kernel copy each way, against two copies, TCP
 * segmentation and the wake-ups of sending 600 KB over loopback.
 *
 * Off unless the server is started with --allow-client-shm (ServerOptions.allowClientShm), as in
 * Triton: a client that may register any key may read any shared-memory object of the server's
 * user.
 */
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { preview } from '../../preview.js';
import { errors, TenancyError } from '../../errors.js';
import { BodyPool } from '../../protocol/body-pool.js';
import type { SharedMemoryRef } from './types.js';
import type { Parameters } from '../../protocol/types.js';
import { readFully, shmObjectPath, writeFully } from '../../protocol/shm-files.js';

/** A region as GET .../status lists it. */
export interface RegionStatus {
  name: string;
  key: string;
  offset: number;
  byte_size: number;
}

interface Region extends RegionStatus {
  fd: number;
}

/** Regions registered at once, at most. */
export const MAX_REGIONS = 1024;

export class SystemSharedMemory {
  private readonly regions = new Map<string, Region>();
  /** Input bytes read per request live until the request ends: reused buffers (body-pool.ts says why). */
  private readonly pool = new BodyPool();

  /**
   * `root`: where the OS keeps shared-memory objects (/dev/shm on Linux). `maxReadBytes`: the most
   * one request may read from shared memory (the server's body limit: a request is no larger
   * for passing its tensors this way).
   */
  constructor(
    private readonly root = '/dev/shm',
    readonly maxReadBytes = Infinity,
  ) {}

  register(name: string, key: unknown, offset: unknown, byteSize: unknown): void {
    if (typeof name !== 'string' || name === '')
      throw errors.invalidArg(`a shared memory region needs a name, got ${preview(name)}`);
    if (this.regions.has(name))
      throw errors.invalidArg(`shared memory region "${name}" is already registered; unregister it first`);
    // Each region holds an open file descriptor: without a cap, registrations could use them all up.
    if (this.regions.size >= MAX_REGIONS)
      throw errors.invalidArg(
        `shared memory region "${name}": ${MAX_REGIONS} regions are registered, ` +
          'the most this server holds; unregister some first',
      );
    const path = shmObjectPath(key, this.root);
    if (!path)
      throw errors.invalidArg(
        `shared memory key must be a POSIX shared memory name such as "/input0" (no other slash), got ${preview(key)}`,
      );
    const off = count(offset, `"offset" of shared memory region "${name}"`, 0);
    const size = count(byteSize, `"byte_size" of shared memory region "${name}"`);
    if (size === 0) throw errors.invalidArg(`"byte_size" of shared memory region "${name}" must be > 0`);
    let fd: number;
    try {
      // As shm_open does: no following a symbolic link out of the shared-memory folder.
      fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such object (create it with shm_open first)'
          : code === 'ELOOP'
            ? 'it is a symbolic link, not a shared-memory object'
            : (err as Error).message;
      throw errors.invalidArg(`unable to open shared memory key ${preview(key)} for region "${name}": ${why}`);
    }
    const objectSize = fstatSync(fd).size;
    if (off + size > objectSize) {
      closeSync(fd);
      throw errors.invalidArg(
        `shared memory region "${name}" (offset ${off}, byte_size ${size}) ` +
          `runs past the end of key ${preview(key)}, which holds ${objectSize} bytes`,
      );
    }
    this.regions.set(name, { name, key: key as string, offset: off, byte_size: size, fd });
  }

  /** Unregisters one region (a name that is not registered is a no-op, as in Triton) or, without a name, all. */
  unregister(name?: string): void {
    for (const r of name ? [this.regions.get(name)].filter((x) => x !== undefined) : [...this.regions.values()]) {
      closeSync(r.fd);
      this.regions.delete(r.name);
    }
  }

  status(name?: string): RegionStatus[] {
    if (!name) return [...this.regions.values()].map(statusOf);
    const r = this.regions.get(name);
    if (!r) throw new TenancyError('NOT_FOUND', `no shared memory region "${name}" is registered`, { region: name });
    return [statusOf(r)];
  }

  /** The bytes of `ref`, in a pooled buffer the caller gives back with release() once the request has ended. */
  read(ref: SharedMemoryRef, what: string): Buffer {
    const r = this.locate(ref, what);
    const buf = this.pool.take(ref.byteSize);
    const got = readFully(r.fd, buf, r.offset + ref.offset);
    if (got < ref.byteSize) {
      this.pool.give(buf);
      throw errors.invalidArg(
        `${what}: shared memory key ${preview(r.key)} of region "${r.name}" ` +
          `ended after ${got} of ${ref.byteSize} bytes (was it truncated?)`,
      );
    }
    return buf;
  }

  release(buf: Buffer): void {
    this.pool.give(buf);
  }

  /** Writes `data` at `ref`; it must fit in ref.byteSize. */
  write(ref: SharedMemoryRef, data: Uint8Array, what: string): void {
    const r = this.locate(ref, what);
    if (data.byteLength > ref.byteSize)
      throw errors.invalidArg(
        `${what} is ${data.byteLength} bytes, more than its shared_memory_byte_size of ${ref.byteSize}`,
      );
    writeFully(r.fd, data, r.offset + ref.offset);
  }

  /** Unregisters everything (the server is closing). */
  close(): void {
    this.unregister();
  }

  /** Checks that `ref` lies in a registered region, without reading it. */
  check(ref: SharedMemoryRef, what: string): void {
    this.locate(ref, what);
  }

  private locate(ref: SharedMemoryRef, what: string): Region {
    const r = this.regions.get(ref.region);
    if (!r) throw errors.invalidArg(`${what}: no shared memory region "${ref.region}" is registered`);
    if (ref.offset + ref.byteSize > r.byte_size)
      throw errors.invalidArg(
        `${what}: shared_memory_offset ${ref.offset} + shared_memory_byte_size ${ref.byteSize} ` +
          `runs past the end of region "${r.name}" (${r.byte_size} bytes)`,
      );
    return r;
  }
}

/**
 * The shared-memory parameters of an input or requested output: undefined when it has none.
 * Region and byte size come together or not at all; the offset defaults to 0.
 */
export function sharedMemoryRef(p: Parameters, what: string): SharedMemoryRef | undefined {
  const { shared_memory_region: region, shared_memory_byte_size: size, shared_memory_offset: offset } = p;
  if (region === undefined && size === undefined) {
    if (offset !== undefined)
      throw errors.invalidArg(`${what}: shared_memory_offset needs shared_memory_region and shared_memory_byte_size`);
    return undefined;
  }
  if (region === undefined || size === undefined)
    throw errors.invalidArg(
      `${what}: shared_memory_region and shared_memory_byte_size go together; ` +
        `got only ${region === undefined ? 'shared_memory_byte_size' : 'shared_memory_region'}`,
    );
  if (typeof region !== 'string' || region === '')
    throw errors.invalidArg(`${what}: shared_memory_region must be a region name, got ${preview(region)}`);
  return {
    region,
    byteSize: count(size, `${what}: shared_memory_byte_size`),
    offset: count(offset, `${what}: shared_memory_offset`, 0),
  };
}

/** The registry of a server that allows shared memory; the error that says how to allow it otherwise. */
export function allowedSharedMemory(shm: SystemSharedMemory | null): SystemSharedMemory {
  if (!shm) throw sharedMemoryOff();
  return shm;
}

/** The error for a server started without --allow-client-shm. */
export function sharedMemoryOff(): TenancyError {
  return errors.invalidArg(
    'system shared memory is off on this server: ' +
      'start it with --allow-client-shm (ServerOptions.allowClientShm) to use it',
  );
}

function count(v: unknown, what: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw errors.invalidArg(`${what} must be an integer >= 0, got ${preview(v)}`);
  return n;
}

function statusOf({ name, key, offset, byte_size }: Region): RegionStatus {
  return { name, key, offset, byte_size };
}
