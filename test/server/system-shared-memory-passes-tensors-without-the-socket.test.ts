import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, symlinkSync, unlinkSync } from 'node:fs';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient, HttpClient, type ServerError, SharedMemoryRegion } from '../../src/client/index.js';
import { serveClassifier, get, post, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

// Real POSIX shared-memory objects in /dev/shm, written by this process and read by the server.
let s: Served;
let http: HttpClient;
let grpc: GrpcClient;
const keys: SharedMemoryRegion[] = [];
const region = (bytes: number) => {
  const r = SharedMemoryRegion.create(`/tenancy-test-${randomUUID()}`, bytes);
  keys.push(r);
  return r;
};

before(async () => {
  s = await serveClassifier({ allowClientShm: true });
  http = new HttpClient(s.http);
  grpc = new GrpcClient(s.grpc);
});
after(async () => {
  grpc.close();
  http.close();
  await s.close();
  for (const r of keys) r.destroy();
});

const X_BYTES = (rows: number) => rows * 3 * 48 * 192 * 4;

test('the server lists system_shared_memory among its extensions only when allowed', async () => {
  assert.ok((await http.serverMetadata()).extensions.includes('system_shared_memory'));
  assert.ok((await grpc.serverMetadata()).extensions.includes('system_shared_memory'));
  const off = await serveClassifier();
  try {
    assert.ok(!(await new HttpClient(off.http).serverMetadata()).extensions.includes('system_shared_memory'));
    const res = await post(`${off.http}/v2/systemsharedmemory/region/a/register`, {
      key: '/x',
      offset: 0,
      byte_size: 4,
    });
    assert.equal(res.status, 400);
    assert.match(res.body.error, /system shared memory is off on this server: start it with --allow-client-shm/);
  } finally {
    await off.close();
  }
});

for (const transport of ['HTTP', 'gRPC'] as const) {
  test(`${transport}: inputs read from and outputs written to shared memory give the engine's numbers`, async () => {
    const client = transport === 'HTTP' ? http : grpc;
    const x = classifierInput(2, 5);
    assert.equal(X_BYTES(2), (x.data as Float32Array).byteLength, 'the fixture input is the size this test assumes');
    const want = (await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT];
    const input = region(X_BYTES(2) + 64);
    const output = region(4096);
    const names = { in: `in-${transport}`, out: `out-${transport}` };
    await client.registerSystemSharedMemory(names.in, input.key, X_BYTES(2), 64);
    await client.registerSystemSharedMemory(names.out, output.key, 4096);
    input.write(x, 64);

    const res = await client.infer(
      TEXT_ORIENTATION,
      {},
      {
        sharedMemory: {
          inputs: { x: { datatype: 'FP32', shape: x.shape, region: names.in, byteSize: X_BYTES(2) } },
          outputs: { [OUTPUT]: { region: names.out, byteSize: 4080, offset: 16 } },
        },
      },
    );
    assert.deepEqual(Object.keys(res.outputs), [], 'an output in shared memory carries no data in the response');
    const place = res.sharedMemoryOutputs?.[OUTPUT];
    assert.deepEqual(place, { datatype: 'FP32', shape: [2, 2], region: names.out, byteSize: 16, offset: 16 });
    assert.deepEqual(Array.from(output.readOutput(place!).data as Float32Array), Array.from(want.data as Float32Array));

    // A shared-memory input beside an output in the response.
    const inline = await client.infer(
      TEXT_ORIENTATION,
      {},
      { sharedMemory: { inputs: { x: { datatype: 'FP32', shape: x.shape, region: names.in, byteSize: X_BYTES(2) } } } },
    );
    assert.deepEqual(Array.from(inline.outputs[OUTPUT].data as Float32Array), Array.from(want.data as Float32Array));

    const status = await client.systemSharedMemoryStatus(names.in);
    assert.deepEqual(status, [{ name: names.in, key: input.key, offset: 64, byte_size: X_BYTES(2) }]);
    await client.unregisterSystemSharedMemory(names.in);
    await client.unregisterSystemSharedMemory(names.out);
    assert.deepEqual(
      (await client.systemSharedMemoryStatus()).filter((r) => r.name.endsWith(transport)),
      [],
    );
  });
}

test('bad shared-memory requests get a clear error and the server keeps serving', async () => {
  const x = classifierInput(1, 3);
  const input = region(X_BYTES(1));
  input.write(x);
  await http.registerSystemSharedMemory('bad-in', input.key, X_BYTES(1));
  const shmInput = (extra: Record<string, unknown>) => ({
    inputs: [
      {
        name: 'x',
        datatype: 'FP32',
        shape: [1, 3, 48, 192],
        parameters: { shared_memory_region: 'bad-in', shared_memory_byte_size: X_BYTES(1), ...extra },
      },
    ],
  });
  const infer = `${s.http}/v2/models/${TEXT_ORIENTATION}/infer`;
  const link = `/tenancy-test-link-${randomUUID()}`;
  symlinkSync('/etc/hostname', `/dev/shm${link}`);
  after(() => unlinkSync(`/dev/shm${link}`));
  const cases: [string, () => Promise<{ status: number; body: { error: string } }>, number, RegExp][] = [
    [
      'register: a key that does not exist',
      () =>
        post(`${s.http}/v2/systemsharedmemory/region/nope/register`, {
          key: '/tenancy-no-such-key',
          offset: 0,
          byte_size: 8,
        }),
      400,
      /unable to open shared memory key "\/tenancy-no-such-key" for region "nope": no such object/,
    ],
    [
      'register: a symbolic link in /dev/shm',
      () => post(`${s.http}/v2/systemsharedmemory/region/l/register`, { key: link, offset: 0, byte_size: 8 }),
      400,
      /for region "l": it is a symbolic link, not a shared-memory object/,
    ],
    [
      'register: a key with a path in it',
      () =>
        post(`${s.http}/v2/systemsharedmemory/region/p/register`, { key: '/../etc/passwd', offset: 0, byte_size: 8 }),
      400,
      /key must be a POSIX shared memory name .* got "\/..\/etc\/passwd"/,
    ],
    [
      'register: the region runs past the object',
      () =>
        post(`${s.http}/v2/systemsharedmemory/region/big/register`, {
          key: input.key,
          offset: 8,
          byte_size: X_BYTES(1),
        }),
      400,
      /runs past the end of key .* which holds 110592 bytes/,
    ],
    [
      'register: a name already registered',
      () => post(`${s.http}/v2/systemsharedmemory/region/bad-in/register`, { key: input.key, offset: 0, byte_size: 8 }),
      400,
      /region "bad-in" is already registered/,
    ],
    [
      'register: a negative byte size',
      () => post(`${s.http}/v2/systemsharedmemory/region/neg/register`, { key: input.key, offset: 0, byte_size: -1 }),
      400,
      /"byte_size" of shared memory region "neg" must be an integer >= 0, got -1/,
    ],
    [
      'status of an unknown region',
      () => get(`${s.http}/v2/systemsharedmemory/region/ghost/status`),
      404,
      /no shared memory region "ghost" is registered/,
    ],
    [
      'infer: an unknown region',
      () => post(infer, shmInput({ shared_memory_region: 'ghost' })),
      400,
      /input "x": no shared memory region "ghost" is registered/,
    ],
    [
      'infer: past the end of the region',
      () => post(infer, shmInput({ shared_memory_offset: 4 })),
      400,
      /shared_memory_offset 4 \+ shared_memory_byte_size 110592 runs past the end of region "bad-in"/,
    ],
    [
      'infer: a byte size that does not fit the shape',
      () => post(infer, shmInput({ shared_memory_byte_size: 8 })),
      400,
      /input "x": shared_memory_byte_size is 8 bytes, but shape \[1, 3, 48, 192\] of FP32 needs 110592 bytes/,
    ],
    [
      'infer: region without byte size',
      () =>
        post(infer, {
          inputs: [
            { name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], parameters: { shared_memory_region: 'bad-in' } },
          ],
        }),
      400,
      /shared_memory_region and shared_memory_byte_size go together; got only shared_memory_region/,
    ],
    [
      'infer: data as well as shared memory',
      () => post(infer, { inputs: [{ ...shmInput({}).inputs[0], data: [1] }] }),
      400,
      /input "x" is in shared memory and also has "data"; send one/,
    ],
    [
      'infer: an output larger than its place',
      () =>
        post(infer, {
          ...shmInput({}),
          outputs: [{ name: OUTPUT, parameters: { shared_memory_region: 'bad-in', shared_memory_byte_size: 4 } }],
        }),
      400,
      /output "softmax_0.tmp_0" is 8 bytes, more than its shared_memory_byte_size of 4/,
    ],
  ];
  const want = Array.from((await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array);
  for (const [what, send, status, message] of cases) {
    const res = await send();
    assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.error, message, what);
    const good = await http.infer(
      TEXT_ORIENTATION,
      {},
      {
        sharedMemory: {
          inputs: { x: { datatype: 'FP32', shape: [1, 3, 48, 192], region: 'bad-in', byteSize: X_BYTES(1) } },
        },
      },
    );
    assert.deepEqual(Array.from(good.outputs[OUTPUT].data as Float32Array), want, `after ${what}`);
  }
  await assert.rejects(
    grpc.infer(
      TEXT_ORIENTATION,
      {},
      { sharedMemory: { inputs: { x: { datatype: 'FP32', shape: [1, 3, 48, 192], region: 'ghost', byteSize: 8 } } } },
    ),
    (err: ServerError) => err.status === 3 && /no shared memory region "ghost" is registered/.test(err.message),
  );
  await http.unregisterSystemSharedMemory();
  assert.deepEqual(await http.systemSharedMemoryStatus(), []);
});

test('SharedMemoryRegion creates the object where shm_open would, and destroy removes it', () => {
  const r = region(16);
  const path = `/dev/shm/${r.key.slice(1)}`;
  assert.ok(existsSync(path));
  r.write(Buffer.from([1, 2, 3, 4]), 12);
  assert.deepEqual([...r.read(12, 4)], [1, 2, 3, 4]);
  assert.throws(() => r.write(Buffer.alloc(8), 12), /8 bytes at offset 12 do not fit/);
  r.destroy();
  assert.ok(!existsSync(path));
});
