/**
 * Which waiting requests form the next batch (pure, after Triton's dynamic batcher): requests that
 * can be merged (same non-batch shapes and outputs: the same key), in priority then arrival order,
 * up to max_batch_size rows. A batch that reaches the largest preferred size (or max_batch_size)
 * goes now, cut to the largest preferred size it can form; a smaller one waits until its oldest
 * request has waited max_queue_delay, then goes as it is. The decision says whether the batch is
 * full (reached its target, or the next request would overflow it): only a full batch may be sent
 * ahead to a busy instance.
 */
export interface BatchCandidate {
  /** Rows along the batch dimension. */
  batchSize: number;
  /** Requests with equal keys can be merged. */
  batchKey: string;
  receivedAt: number;
}

export interface BatchPolicy {
  maxBatchSize: number;
  /** Ascending; empty means max_batch_size is the only preferred size. */
  preferred: number[];
  /** Longest wait for a fuller batch, ms; 0 = send what is there. */
  delayMs: number;
}

/** `full`: the batch reached the largest preferred size (or max_batch_size), rather than its delay. */
export type BatchDecision<T> = { send: T[]; full: boolean } | { waitUntil: number };

/** How far down the queue to look for mergeable requests: bounds the cost with many shapes waiting. */
const SCAN_FACTOR = 8;

export function formBatch<T extends BatchCandidate>(
  waiting: Iterable<T>,
  policy: BatchPolicy,
  now: number,
): BatchDecision<T> | null {
  const picked: T[] = [];
  let rows = 0;
  let scanned = 0;
  let key: string | null = null;
  let overflow = false;
  for (const c of waiting) {
    if (++scanned > policy.maxBatchSize * SCAN_FACTOR) break;
    if (key === null) key = c.batchKey;
    else if (c.batchKey !== key) continue;
    if (rows + c.batchSize > policy.maxBatchSize) {
      overflow = true;
      break;
    }
    picked.push(c);
    rows += c.batchSize;
    if (rows === policy.maxBatchSize) break;
  }
  if (picked.length === 0) return null;
  const target = policy.preferred.length ? policy.preferred[policy.preferred.length - 1] : policy.maxBatchSize;
  if (rows >= target) return { send: cutToPreferred(picked, policy.preferred), full: true };
  const oldest = Math.min(...picked.map((p) => p.receivedAt));
  if (policy.delayMs > 0 && now < oldest + policy.delayMs) return { waitUntil: oldest + policy.delayMs };
  // A batch the next waiting request would overflow cannot get fuller: it counts as full.
  return { send: picked, full: overflow };
}

/** The longest prefix whose rows equal a preferred size; the whole list when none does. */
function cutToPreferred<T extends BatchCandidate>(picked: T[], preferred: number[]): T[] {
  if (preferred.length === 0) return picked;
  let rows = 0;
  let best = 0;
  picked.forEach((p, i) => {
    rows += p.batchSize;
    if (preferred.includes(rows)) best = i + 1;
  });
  return best > 0 ? picked.slice(0, best) : picked;
}
