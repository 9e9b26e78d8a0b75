import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { applyPlacement } from '../../src/engine/index.js';
import { serveClassifier, post, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

// A client pushes a model to a box that shares no file system with it: tritonclient's
// load_model(name, config=..., files={"file:1/model.onnx": bytes}).
let s: Served;
let model: Buffer;
let labels: Buffer;
let config: Record<string, unknown>;
before(async () => {
  s = await serveClassifier({ modelControlMode: 'explicit' });
  const dir = path.join(s.repo, TEXT_ORIENTATION);
  model = await readFile(path.join(dir, '1', 'model.onnx'));
  labels = await readFile(path.join(dir, 'labels.txt'));
  config = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
});
after(() => s.close());

const uploads = async () => (await readdir(os.tmpdir())).filter((f) => f.startsWith('tenancy-upload-')).length;
const loadedFile = (name: string) => s.engine.loaded().find((m) => m.name === name)?.file;

test(
  'a model sent with its load (HTTP base64, gRPC bytes) serves the numbers of the same model on disk, ' +
    'and its files go when it is unloaded',
  async () => {
    const x = classifierInput(1, 6);
    const want = Array.from((await s.engine.infer(TEXT_ORIENTATION, { x })).outputs[OUTPUT].data as Float32Array);
    const before = await uploads();
    const http = new HttpClient(s.http);
    const grpc = new GrpcClient(s.grpc);
    try {
      for (const [name, client] of [
        ['pushed_http', http],
        ['pushed_grpc', grpc],
      ] as const) {
        await client.load(name, { ...config, name }, { '1/model.onnx': model, 'labels.txt': labels });
        assert.ok(
          loadedFile(name)?.startsWith(os.tmpdir()),
          `${name} loads from its upload, not the repository: ${loadedFile(name)}`,
        );
        const r = await client.infer(name, { x });
        assert.deepEqual(Array.from(r.outputs[OUTPUT].data as Float32Array), want, name);
        const top = await client.infer(name, { x }, { classification: 1 });
        assert.match(String((top.outputs[OUTPUT].data as string[])[0]), /:(0|180)$/, 'the uploaded labels are used');
      }
      assert.equal(await uploads(), before + 2);
      await http.unload('pushed_http');
      await grpc.unload('pushed_grpc');
      assert.equal(await uploads(), before, 'unloading removes the uploaded files');
    } finally {
      http.close();
      grpc.close();
    }
  },
);

test('a new placement of a model sent with its load keeps its files (placement is no protocol load)', async () => {
  const http = new HttpClient(s.http);
  try {
    await http.load(
      'pushed_placed',
      { ...config, name: 'pushed_placed' },
      { '1/model.onnx': model, 'labels.txt': labels },
    );
    const file = loadedFile('pushed_placed');
    await applyPlacement(s.engine, [
      { model: 'pushed_placed', device: 'cpu', instances: 2, threads: 1, batching: null, expectedThroughput: 0 },
    ]);
    const m = s.engine.loaded().find((x) => x.name === 'pushed_placed')!;
    assert.equal(m.instances.length, 2);
    assert.equal(m.file, file, 'still the uploaded file');
    assert.equal((await http.infer('pushed_placed', { x: classifierInput(1) })).model_name, 'pushed_placed');
    await http.unload('pushed_placed');
  } finally {
    http.close();
  }
});

test('a load without files goes back to the repository and removes the upload it replaces', async () => {
  const http = new HttpClient(s.http);
  const before = await uploads();
  try {
    await http.load(TEXT_ORIENTATION, config, { '1/model.onnx': model, 'labels.txt': labels });
    assert.ok(loadedFile(TEXT_ORIENTATION)?.startsWith(os.tmpdir()));
    assert.equal(await uploads(), before + 1);
    await http.load(TEXT_ORIENTATION);
    assert.equal(loadedFile(TEXT_ORIENTATION), path.join(s.repo, TEXT_ORIENTATION, '1', 'model.onnx'));
    assert.equal(await uploads(), before);
  } finally {
    http.close();
  }
});

test('bad file parameters get a clear 400 each and change nothing; the server serves on', async () => {
  const url = (name: string) => `${s.http}/v2/repository/models/${name}/load`;
  const b64 = model.toString('base64');
  const before = await uploads();
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'files without config',
      { 'file:1/model.onnx': b64 },
      /load of model "pushed" sends files \(file:1\/model.onnx\) without a "config" parameter/,
    ],
    [
      'a path out of the model folder',
      { config: JSON.stringify({ ...config, name: 'pushed' }), 'file:../escape/model.onnx': b64 },
      /file parameter "file:..\/escape\/model.onnx" must name a path inside the model's folder/,
    ],
    [
      'an absolute path',
      { config: JSON.stringify({ ...config, name: 'pushed' }), 'file:/etc/model.onnx': b64 },
      /file parameter "file:\/etc\/model.onnx" must name a path inside/,
    ],
    [
      'not base64',
      { config: JSON.stringify({ ...config, name: 'pushed' }), 'file:1/model.onnx': 'not base64!' },
      /parameter "file:1\/model.onnx" is not valid base64 \(11 characters/,
    ],
    [
      'a number for bytes',
      { config: JSON.stringify({ ...config, name: 'pushed' }), 'file:1/model.onnx': 7 },
      /parameter "file:1\/model.onnx" must be the file's bytes as a base64 string, got 7/,
    ],
    [
      'bytes that are no model',
      {
        config: JSON.stringify({ ...config, name: 'pushed' }),
        'file:1/model.onnx': Buffer.from('no onnx here').toString('base64'),
      },
      /model.onnx/,
    ],
  ];
  for (const [what, parameters, message] of cases) {
    const r = await post(url('pushed'), { parameters });
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, message, what);
    assert.equal(
      s.engine.loaded().some((m) => m.name === 'pushed'),
      false,
      `${what}: nothing loaded`,
    );
    assert.equal(await uploads(), before, `${what}: no files left behind`);
    const ok = await post(`${s.http}/v2/models/${TEXT_ORIENTATION}/infer`, {
      inputs: [
        {
          name: 'x',
          datatype: 'FP32',
          shape: [1, 3, 48, 192],
          data: Array.from(classifierInput(1).data as Float32Array),
        },
      ],
    });
    assert.equal(ok.status, 200, `after ${what}`);
  }
  const grpc = new GrpcClient(s.grpc);
  try {
    const g = grpc as unknown as { call(method: string, req: unknown): Promise<unknown> };
    await assert.rejects(
      g.call('RepositoryModelLoad', {
        model_name: 'pushed',
        parameters: { config: { string_param: JSON.stringify(config) }, 'file:1/model.onnx': { string_param: b64 } },
      }),
      /parameter "file:1\/model.onnx" must be the file's bytes in bytes_param, got string_param/,
    );
  } finally {
    grpc.close();
  }
});
