/**
 * The acceptance case: a model repository written the way Triton's docs write one, served by
 * `tenancy serve --model-repository DIR` as it is, answers over HTTP and gRPC with the numbers
 * of the same model served from its config.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Engine } from '../../src/index.js';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { FREE_PORTS, startServe } from '../fixtures/serve-process.js';
import { classifierInput, classifierRepo, removeDir, tempDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

const OUT = 'softmax_0.tmp_0';
const tensors = `input [ { name: "x" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 48, 192 ] } ]
output [ { name: "${OUT}" data_type: TYPE_FP32 dims: [ 2 ] label_filename: "labels.txt" } ]`;

/** Model folder name -> its config.pbtxt (null: no config at all). */
const MODELS: Record<string, string | null> = {
  // The quick-start densenet_onnx shape: client dims differ from the file's, by reshape; labels.
  densenet_like: `name: "densenet_like"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "x" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 9216 ] reshape { shape: [ 3, 48, 192 ] } } ]
output [ { name: "${OUT}" data_type: TYPE_FP32 dims: [ 1, 2 ] reshape { shape: [ 2 ] } label_filename: "labels.txt" } ]
`,
  batching: `name: "batching"
platform: "onnxruntime_onnx"
max_batch_size: 8
${tensors}
dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 100 }
instance_group [ { count: 2 kind: KIND_CPU } ]
`,
  no_config: null,
  versions: `name: "versions"
backend: "onnxruntime"
max_batch_size: 8
version_policy: { all: { } }
`,
};

async function tritonRepository(): Promise<string> {
  const source = await classifierRepo();
  const repo = await tempDir();
  for (const [name, pbtxt] of Object.entries(MODELS)) {
    const dir = path.join(repo, name);
    await cp(path.join(source, TEXT_ORIENTATION), dir, { recursive: true });
    await rm(path.join(dir, 'config.json'));
    if (pbtxt !== null) await writeFile(path.join(dir, 'config.pbtxt'), pbtxt);
  }
  await cp(path.join(repo, 'versions', '1'), path.join(repo, 'versions', '2'), { recursive: true });
  await removeDir(source);
  return repo;
}

test('a Triton-style repository serves unmodified over HTTP and gRPC with the numbers of config.json', async () => {
  const repo = await tritonRepository();
  const reference = await classifierRepo();
  const engine = new Engine({ repository: reference, cores: 1 });
  const serve = await startServe(['--model-repository', repo, ...FREE_PORTS, '--profiles', 'none']);
  const grpcPort = /gRPC {7}127\.0\.0\.1:(\d+)/.exec(serve.output())?.[1];
  const http = new HttpClient(serve.url);
  const grpc = new GrpcClient(`127.0.0.1:${grpcPort}`);
  try {
    await engine.loadAll();
    const index = (await http.repositoryIndex()) as { name: string; version?: string; state: string }[];
    assert.deepEqual(
      index.map((r) => `${r.name}:${r.version}:${r.state}`),
      ['batching:1:READY', 'densenet_like:1:READY', 'no_config:1:READY', 'versions:1:READY', 'versions:2:READY'],
      serve.output(),
    );
    const x = classifierInput(1, 11);
    const want = [...(await engine.infer(TEXT_ORIENTATION, { x })).outputs[OUT].data];
    const plain = { x };
    const flat = { x: { ...x, shape: [1, 3, 9216] } };
    const cases: [string, number | undefined, typeof plain][] = [
      ['batching', undefined, plain],
      ['no_config', undefined, plain],
      ['versions', 1, plain],
      ['versions', 2, plain],
      ['densenet_like', undefined, flat],
    ];
    for (const [model, version, inputs] of cases) {
      const viaHttp = await http.infer(model, inputs, { version });
      const viaGrpc = await grpc.infer(model, inputs, { version });
      assert.deepEqual([...viaHttp.outputs[OUT].data], want, `${model} over HTTP`);
      assert.deepEqual([...viaGrpc.outputs[OUT].data], want, `${model} over gRPC`);
    }
    const densenet = await http.infer('densenet_like', flat);
    assert.deepEqual(densenet.outputs[OUT].shape, [1, 1, 2], 'the answer comes back as the config dims');
    const top = await http.infer('batching', plain, { classification: 1 });
    assert.match(String(top.outputs[OUT].data[0]), /^[\d.]+:\d:\S+$/, 'label_filename labels the class');
    const config = await grpc.modelConfig('batching');
    assert.deepEqual((config as { instance_group: { count: number }[] }).instance_group[0].count, 2);
    assert.equal(await serve.stop(), 0, serve.output());
  } finally {
    grpc.close();
    serve.child.kill('SIGKILL');
    await engine.close();
    await removeDir(repo);
    await removeDir(reference);
  }
});
