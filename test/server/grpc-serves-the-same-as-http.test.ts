import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient, HttpClient, type ServerError } from '../../src/client/index.js';
import { serveClassifier, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

let s: Served;
let grpc: GrpcClient;
before(async () => {
  s = await serveClassifier({ modelControlMode: 'explicit' });
  grpc = new GrpcClient(s.grpc);
});
after(async () => {
  grpc.close();
  await s.close();
});

test('gRPC, HTTP JSON and HTTP binary return exactly the numbers of engine.infer', async () => {
  const x = classifierInput(3, 21);
  const want = Array.from((await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array);
  const http = new HttpClient(s.http);
  const results = [
    await grpc.infer(TEXT_ORIENTATION, { x }, { id: 'g1' }),
    await http.infer(TEXT_ORIENTATION, { x }, { binary: false, id: 'g1' }),
    await http.infer(TEXT_ORIENTATION, { x }, { binary: true, id: 'g1' }),
  ];
  for (const r of results) {
    assert.equal(r.model_name, TEXT_ORIENTATION);
    assert.equal(r.model_version, '1');
    assert.equal(r.id, 'g1');
    assert.deepEqual(r.outputs[OUTPUT].shape, [3, 2]);
    assert.deepEqual(Array.from(r.outputs[OUTPUT].data as Float32Array), want);
  }
});

test('gRPC typed contents (fp32_contents) are accepted as well as raw contents', async () => {
  const x = classifierInput(1, 8);
  const want = Array.from((await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array);
  const r = await grpc.call<{ outputs: { shape: string[] }[]; raw_output_contents: Buffer[] }>('ModelInfer', {
    model_name: TEXT_ORIENTATION,
    inputs: [
      { name: 'x', datatype: 'FP32', shape: x.shape, contents: { fp32_contents: Array.from(x.data as Float32Array) } },
    ],
  });
  assert.deepEqual(r.outputs[0].shape.map(Number), [1, 2]);
  const b = r.raw_output_contents[0];
  assert.deepEqual(Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))), want);
});

test('gRPC health, metadata, statistics and repository calls answer as over HTTP', async () => {
  const http = new HttpClient(s.http);
  assert.equal(await grpc.live(), true);
  assert.equal(await grpc.ready(), true);
  assert.equal(await grpc.modelReady(TEXT_ORIENTATION), true);
  assert.equal(await grpc.modelReady('nope'), false);
  assert.deepEqual(await grpc.serverMetadata(), await http.serverMetadata());
  assert.deepEqual(await grpc.modelMetadata(TEXT_ORIENTATION), await http.modelMetadata(TEXT_ORIENTATION));
  const stats = (await grpc.statistics(TEXT_ORIENTATION)).model_stats as { name: string; inference_count: string }[];
  assert.equal(stats[0].name, TEXT_ORIENTATION);
  assert.ok(Number(stats[0].inference_count) >= 1);
  assert.deepEqual(
    (await grpc.repositoryIndex()).map((m) => [m.name, m.state]),
    [[TEXT_ORIENTATION, 'READY']],
  );
  await grpc.unload(TEXT_ORIENTATION);
  assert.equal(await grpc.modelReady(TEXT_ORIENTATION), false);
  await grpc.load(TEXT_ORIENTATION);
  assert.equal(await grpc.modelReady(TEXT_ORIENTATION), true);
});

test('gRPC errors carry the mapped status and the same message', async () => {
  const x = classifierInput(1);
  const cases: [() => Promise<unknown>, number, RegExp][] = [
    [() => grpc.infer('nope', { x }), 5, /unknown model "nope"/],
    [
      () => grpc.infer(TEXT_ORIENTATION, { x: { ...x, shape: [1, 3, 48, 100], data: new Float32Array(3 * 48 * 100) } }),
      3,
      /shape \[1, 3, 48, 100\], expected/,
    ],
    [
      () => grpc.infer(TEXT_ORIENTATION, { x: { ...x, shape: [1, 3, 48, 193] } }),
      3,
      /binary data is 110592 bytes, but shape \[1, 3, 48, 193\] of FP32 needs 111168 bytes/,
    ],
    [() => grpc.infer(TEXT_ORIENTATION, { x }, { version: 4 }), 5, /no loaded version 4/],
  ];
  for (const [call, code, pattern] of cases) {
    await assert.rejects(call(), (e: ServerError) => {
      assert.equal(e.status, code);
      assert.match(e.message, pattern);
      return true;
    });
  }
  assert.equal((await grpc.infer(TEXT_ORIENTATION, { x })).model_name, TEXT_ORIENTATION, 'still serving');
});
