import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, TenancyError } from '../../src/index.js';
import { classifierRepo, classifierInput, cloneModel, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

let repo: string;
let engine: Engine;
const OTHER = 'other_model';

before(async () => {
  repo = await classifierRepo({ max_batch_size: 64, queue_policy: { max_queue_size: 2 } });
  await cloneModel(repo, TEXT_ORIENTATION, OTHER);
  engine = new Engine({ repository: repo, cores: 2 });
  await engine.loadAll();
});
after(async () => {
  await engine.close();
  await removeDir(repo);
});

async function othersStillServe(): Promise<void> {
  const r = await engine.infer(OTHER, { x: classifierInput(1) });
  assert.deepEqual(r.outputs['softmax_0.tmp_0'].shape, [1, 2]);
  const s = await engine.infer(TEXT_ORIENTATION, { x: classifierInput(1) });
  assert.deepEqual(s.outputs['softmax_0.tmp_0'].shape, [1, 2]);
}

function rejectsWith(code: string, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof TenancyError, `a TenancyError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  };
}

const x = classifierInput(1);
const cases: [string, () => Promise<unknown>, string, RegExp][] = [
  [
    'an unknown input name',
    () => engine.infer(TEXT_ORIENTATION, { image: x }),
    'INVALID_ARG',
    /unexpected input "image" .*expected: x/,
  ],
  ['a missing input', () => engine.infer(TEXT_ORIENTATION, {}), 'INVALID_ARG', /expects input "x"/],
  [
    'a wrong datatype',
    () => engine.infer(TEXT_ORIENTATION, { x: { ...x, datatype: 'FP64', data: new Float64Array(x.data.length) } }),
    'INVALID_ARG',
    /datatype FP64, expected FP32/,
  ],
  [
    'a wrong shape',
    () => engine.infer(TEXT_ORIENTATION, { x: { ...x, shape: [1, 3, 48, 100] } }),
    'INVALID_ARG',
    /shape \[1, 3, 48, 100\], expected \[-1 \(batch\), 3, 48, 192\]/,
  ],
  [
    'a batch over max_batch_size',
    () => engine.infer(TEXT_ORIENTATION, { x: classifierInput(65) }),
    'INVALID_ARG',
    /batch size 65, expected 1 to 64/,
  ],
  [
    'data shorter than the shape',
    () => engine.infer(TEXT_ORIENTATION, { x: { ...x, data: new Float32Array(10) } }),
    'INVALID_ARG',
    /has 10 elements, but shape \[1, 3, 48, 192\] needs 27648/,
  ],
  [
    'data of the wrong array type',
    () => engine.infer(TEXT_ORIENTATION, { x: { ...x, data: new Int32Array(x.data.length) } }),
    'INVALID_ARG',
    /does not hold FP32 values \(got Int32Array\)/,
  ],
  [
    'an unknown output',
    () => engine.infer(TEXT_ORIENTATION, { x }, { outputs: ['probs'] }),
    'INVALID_ARG',
    /no output "probs"/,
  ],
  [
    'an unknown model',
    () => engine.infer('resnet1000', { x }),
    'NOT_FOUND',
    /unknown model "resnet1000" \(known: other_model, text_orientation\)/,
  ],
  [
    'an unknown version',
    () => engine.infer(TEXT_ORIENTATION, { x }, { version: 7 }),
    'NOT_FOUND',
    /no loaded version 7 \(loaded: 1\)/,
  ],
];

for (const [what, call, code, pattern] of cases) {
  test(`${what} is refused with ${code} naming the value, and other models keep serving`, async () => {
    await assert.rejects(call(), rejectsWith(code, pattern));
    await othersStillServe();
  });
}

test('a full queue refuses with QUEUE_FULL naming the limit; accepted requests still complete', async () => {
  const big = classifierInput(64);
  // One runs, one waits in the instance (pipeline depth 2), two wait in the queue (max_queue_size 2),
  // the rest are refused, all in the same tick.
  const calls = Array.from({ length: 6 }, () => engine.infer(TEXT_ORIENTATION, { x: big }));
  const results = await Promise.allSettled(calls);
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const refused = results
    .filter((r) => r.status === 'rejected')
    .map((r) => (r as PromiseRejectedResult).reason as TenancyError);
  assert.equal(ok, 4);
  assert.equal(refused.length, 2);
  for (const e of refused) rejectsWith('QUEUE_FULL', /queue is full: 2 requests waiting \(max_queue_size 2\)/)(e);
  await othersStillServe();
});

test('a request whose deadline passes while queued fails with TIMEOUT and leaves the queue', async () => {
  const slow = engine.infer(TEXT_ORIENTATION, { x: classifierInput(64) });
  const late = engine.infer(TEXT_ORIENTATION, { x }, { timeoutMs: 2 });
  await assert.rejects(late, rejectsWith('TIMEOUT', /timed out after 2 ms while queued/));
  await slow;
  assert.equal(engine.model(TEXT_ORIENTATION).queued, 0);
  await othersStillServe();
});

test('an aborted queued request fails with CANCELLED at once', async () => {
  const slow = engine.infer(TEXT_ORIENTATION, { x: classifierInput(64) });
  const ac = new AbortController();
  const cancelled = engine.infer(TEXT_ORIENTATION, { x }, { signal: ac.signal });
  ac.abort();
  await assert.rejects(cancelled, rejectsWith('CANCELLED', /was cancelled/));
  await slow;
  const stats = engine.stats(TEXT_ORIENTATION)[0];
  assert.ok(stats.inference_stats.fail.count >= 1, 'the cancelled request is counted as failed');
});
