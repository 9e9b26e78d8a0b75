import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { open, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { classifierInput } from '../fixtures/repo.js';
import { bodyReader } from '../../src/server/http/body.js';
import { BodyPool } from '../../src/protocol/body-pool.js';
import { serveClassifier, post, jsonInput, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

// Tensor bytes a hostile client declares but does not need to send: 16 million empty BYTES
// elements were each copied (21 s, 3.3 GB) before their count was compared with the shape; a
// shared-memory input was read whole (into a buffer of its declared size, gigabytes from a
// sparse object; 2 GiB or more was a 500) before its size or even its name was checked; and a
// Content-Length of 64 MiB was allocated for every connection before its body came.
let s: Served;
const key = `/tenancy-hostile-${process.pid}`;
const shmFile = `/dev/shm${key}`;
before(async () => {
  s = await serveClassifier({ allowClientShm: true });
  const f = await open(shmFile, 'w');
  await f.truncate(3 * 2 ** 30); // sparse: nothing is written
  await f.close();
  const reg = await post(`${s.http}/v2/systemsharedmemory/region/big/register`, {
    key,
    offset: 0,
    byte_size: 3 * 2 ** 30,
  });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
});
after(async () => {
  await s.close();
  await rm(shmFile, { force: true });
});

const url = () => `${s.http}/v2/models/${TEXT_ORIENTATION}/infer`;
const servesNext = async () =>
  assert.equal((await post(url(), { inputs: [jsonInput(classifierInput(1))] })).status, 200);

function framed(header: unknown, data: Buffer) {
  const h = Buffer.from(JSON.stringify(header));
  return post(url(), new Uint8Array(Buffer.concat([h, data])), {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(h.length),
  });
}

test(
  'BYTES binary data holding more elements than the ' + 'shape is refused by count before any element is copied',
  async () => {
    const zeros = Buffer.alloc(16_000_000); // 4 million empty elements
    const r = await framed(
      { inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: zeros.length } }] },
      zeros,
    );
    assert.equal(r.status, 400);
    assert.match(r.body.error, /input "x": binary data holds more than 1 BYTES elements, but shape \[1\] needs 1/);
    const big = await post(url(), {
      inputs: [{ name: 'x', datatype: 'BYTES', shape: [100_000], data: Array(100_000).fill('') }],
    });
    assert.equal(big.status, 400);
    assert.match(
      big.body.error,
      new RegExp(
        'a BYTES tensor of shape \\[100000\\] has 100000 elements,' +
          ' more than this server accepts in one tensor \\(at most 65536\\)',
      ),
    );
    await servesNext();
  },
);

test('a shared-memory input is checked (name, size for its shape, the read limit) before a byte is read', async () => {
  const shmInput = (name: string, datatype: string, shape: number[], size: number) => ({
    name,
    datatype,
    shape,
    parameters: { shared_memory_region: 'big', shared_memory_byte_size: size },
  });
  const mismatch = await post(url(), { inputs: [shmInput('x', 'FP32', [1, 3, 48, 192], 2_040_109_466)] });
  assert.equal(mismatch.status, 400, JSON.stringify(mismatch.body));
  assert.match(
    mismatch.body.error,
    /input "x": shared_memory_byte_size is 2040109466 bytes, but shape \[1, 3, 48, 192\] of FP32 needs 110592 bytes/,
  );
  const huge = await post(url(), { inputs: [shmInput('x', 'FP32', [1, 3, 48, 192], 3 * 2 ** 30)] });
  assert.equal(huge.status, 400, 'a 3 GiB read is a 400, not a 500');
  const unknown = await post(url(), {
    inputs: [0, 1, 2].map((i) => shmInput(`y${i}`, 'UINT8', [1_992_294_400], 1_992_294_400)),
  });
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.error, /unexpected input "y0" for model "text_orientation" \(expected: x\)/);
  const over = await post(url(), { inputs: [shmInput('x', 'BYTES', [1], 2 ** 30)] });
  assert.equal(over.status, 400);
  assert.match(
    over.body.error,
    new RegExp(
      'shared-memory inputs add up to 1073741824 bytes,' +
        ' more than this server reads for one request \\(67108864, its body limit\\)',
    ),
  );
  await servesNext();
});

test('a body declared larger than 1 MiB is not allocated before it arrives', async () => {
  const sizes: number[] = [];
  class Spy extends BodyPool {
    override take(n: number, shift = 0) {
      sizes.push(n);
      return super.take(n, shift);
    }
  }
  const read = bodyReader(128 * 2 ** 20, new Spy());
  const payload = new PassThrough() as unknown as IncomingMessage;
  const req = { headers: { 'content-length': String(64 * 2 ** 20) } } as unknown as FastifyRequest;
  let finished = false;
  read(req, payload, () => (finished = true));
  (payload as unknown as PassThrough).write(Buffer.alloc(10));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sizes, [], 'nothing of the declared 64 MiB was taken');
  assert.equal(finished, false);
  const small = bodyReader(128 * 2 ** 20, new Spy());
  const p2 = new PassThrough();
  small(
    { headers: { 'content-length': '600000' } } as unknown as FastifyRequest,
    p2 as unknown as IncomingMessage,
    () => {},
  );
  assert.deepEqual(sizes, [600000], 'a body of a usual size still gets its pooled buffer at once');
});
