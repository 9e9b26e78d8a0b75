import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formBatch, type BatchCandidate, type BatchPolicy } from '../../src/scheduler/index.js';

const req = (batchSize: number, receivedAt = 0, batchKey = 'a'): BatchCandidate & { id: string } => ({
  batchSize,
  receivedAt,
  batchKey,
  id: `${batchKey}${batchSize}@${receivedAt}`,
});
const ids = (d: ReturnType<typeof formBatch>) =>
  d && 'send' in d ? d.send.map((r) => (r as unknown as { id: string }).id) : d;

const cases: [string, BatchPolicy, ReturnType<typeof req>[], number, unknown][] = [
  ['nothing waiting forms nothing', { maxBatchSize: 8, preferred: [], delayMs: 1 }, [], 0, null],
  [
    'a full batch goes at once',
    { maxBatchSize: 4, preferred: [], delayMs: 100 },
    [req(1), req(1), req(2), req(1)],
    0,
    ['a1@0', 'a1@0', 'a2@0'],
  ],
  [
    'a partial batch waits until the oldest has waited the delay',
    { maxBatchSize: 8, preferred: [], delayMs: 5 },
    [req(1, 10), req(1, 12)],
    11,
    { waitUntil: 15 },
  ],
  [
    'after the delay a partial batch goes as it is',
    { maxBatchSize: 8, preferred: [], delayMs: 5 },
    [req(1, 10), req(1, 12)],
    15,
    ['a1@10', 'a1@12'],
  ],
  [
    'with no delay whatever waits goes now',
    { maxBatchSize: 8, preferred: [], delayMs: 0 },
    [req(1, 10)],
    10,
    ['a1@10'],
  ],
  [
    'requests of another shape are not merged, and the oldest shape goes first',
    { maxBatchSize: 8, preferred: [], delayMs: 0 },
    [req(1, 0, 'a'), req(1, 1, 'b'), req(2, 2, 'a')],
    5,
    ['a1@0', 'a2@2'],
  ],
  [
    'a request that would overflow max_batch_size stays for the next batch',
    { maxBatchSize: 4, preferred: [], delayMs: 0 },
    [req(3), req(2)],
    0,
    ['a3@0'],
  ],
  [
    'reaching the largest preferred size sends it now, cut to a preferred size',
    { maxBatchSize: 8, preferred: [2, 4], delayMs: 100 },
    [req(1), req(1), req(1), req(1), req(1)],
    0,
    ['a1@0', 'a1@0', 'a1@0', 'a1@0'],
  ],
  [
    'below the largest preferred size the batch waits for the delay',
    { maxBatchSize: 8, preferred: [2, 4], delayMs: 100 },
    [req(1), req(1)],
    0,
    { waitUntil: 100 },
  ],
];

for (const [what, policy, waiting, now, expected] of cases) {
  test(`formBatch: ${what}`, () => {
    assert.deepEqual(ids(formBatch(waiting, policy, now)), expected);
  });
}

test('formBatch says whether a batch is full: only a full one may be sent ahead to a busy instance', () => {
  const full = (d: ReturnType<typeof formBatch>) => (d && 'send' in d ? d.full : null);
  assert.equal(
    full(formBatch([req(1), req(1), req(1), req(1)], { maxBatchSize: 4, preferred: [], delayMs: 0 }, 0)),
    true,
    'max_batch_size reached',
  );
  assert.equal(
    full(formBatch([req(1), req(1)], { maxBatchSize: 8, preferred: [2], delayMs: 100 }, 0)),
    true,
    'preferred size reached',
  );
  assert.equal(
    full(formBatch([req(1), req(1)], { maxBatchSize: 8, preferred: [], delayMs: 0 }, 0)),
    false,
    'sent because the delay is 0, not full',
  );
  assert.equal(
    full(formBatch([req(1, 0), req(1, 1)], { maxBatchSize: 8, preferred: [], delayMs: 5 }, 9)),
    false,
    'sent because the delay passed, not full',
  );
  assert.equal(
    full(formBatch([req(3), req(2)], { maxBatchSize: 4, preferred: [], delayMs: 0 }, 0)),
    true,
    'the next request would overflow it',
  );
});
