/**
 * A process's proportional set size (PSS, Linux /proc/<pid>/smaps_rollup): its resident memory
 * with each page shared with other mappings divided among them. Resident memory (RSS) counts a
 * memory-mapped file once per mapping, so instances that share one copy of a model's weights
 * (runtime/shared-weights.ts) each looked as if they held a copy; PSS counts the copy once.
 */
import { readFileSync } from 'node:fs';

/** PSS of `pid` (default: this process) in bytes, or null where the kernel does not report it. */
export function pssBytes(pid: number | 'self' = 'self'): number | null {
  try {
    const kb = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}
