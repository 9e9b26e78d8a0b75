/**
 * The V8 heap settings a serving process needs, in one place. V8 sizes its heap when the process
 * starts, so these must be on node's command line (bin/tenancy.js's shebang, the npm scripts, the
 * bench's client fork); NODE_OPTIONS does not accept them. A test checks that those places agree
 * with this list, and `tenancy serve` warns when it runs without them.
 *
 * Why each (measured on MobileNet V2, 600 KB inputs, concurrency 8; docs/serving.md "Performance"):
 * - --min-semi-space-size=16 (MiB): a request's objects live through queueing and inference, tens
 *   of milliseconds. In V8's default 1 MiB young generation they survive two scavenges and are
 *   promoted, and the old generation then needs a full mark-compact every ~120 ms.
 * - --initial-old-space-size=128 (MiB), which is also the floor of the old generation's limit: every
 *   request brings ~0.6-1.8 MB of short-lived ArrayBuffers (socket reads, message buffers), and V8
 *   counts ArrayBuffer bytes allocated since the last full collection against that limit. It only
 *   scavenges them away after 32 MB, so when the computed limit leaves less room than that (a live
 *   heap of ~20 MB gets a limit of ~44 MB), a full collection starts instead, 5-9 times a second,
 *   and each one resets the limit to the same low value. A floor well above live heap + 48 MB
 *   ends that loop. The cost is up to 128 MB of old generation before the first full collection.
 * What they cost idle, and where that is given back (docs/memory.md): an idle process starts no
 * collection, so the engine thread kept its 32 MiB young generation and, in some starts, 100 MB of
 * dead buffers; runtime/idle-gc.ts collects once the hosts have gone idle. V8's flags are the
 * process's, so worker threads got the 16 MiB semi-spaces too; they get their own small young
 * generation instead (runtime/host.ts WORKER_RESOURCE_LIMITS).
 */
export const HEAP_FLAGS = ['--min-semi-space-size=16', '--initial-old-space-size=128'] as const;

/** The HEAP_FLAGS missing from a process's node options (default: this process's). */
export function missingHeapFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return HEAP_FLAGS.filter((f) => !execArgv.includes(f));
}
