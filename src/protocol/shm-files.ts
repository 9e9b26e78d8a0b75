/**
 * System shared memory as files: where the OS keeps a POSIX shared-memory object, and whole reads
 * and writes through its descriptor (Node cannot map memory). The server's registry
 * (server/oip/shm-registry.ts) and the client (client/shm-region.ts) both use these.
 */
import { readSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** POSIX shared-memory names: one optional leading slash, then a file name. */
const KEY = /^\/?([^/\0]+)$/;

/** Where the OS keeps the shared-memory object `key` under `root`; null when `key` is not a plain name. */
export function shmObjectPath(key: unknown, root = '/dev/shm'): string | null {
  const m = typeof key === 'string' ? KEY.exec(key) : null;
  return m && m[1] !== '.' && m[1] !== '..' ? join(root, m[1]) : null;
}

/** One read at most this long: readSync takes no length of 2 GiB or more. */
const READ_CHUNK = 2 ** 30;

/** Reads `buf.length` bytes at `position`; returns how many it got before the end of the file. */
export function readFully(fd: number, buf: Uint8Array, position: number): number {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, Math.min(READ_CHUNK, buf.length - done), position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export function writeFully(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.byteLength) done += writeSync(fd, data, done, data.byteLength - done, position + done);
}
