import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readModelDefinition, type ModelConfig } from '../../src/repository/index.js';
import { parsePbtxt } from '../../src/repository/triton-config.js';
import { Engine } from '../../src/index.js';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { startServers } from '../../src/server/index.js';
import { classifierInput, classifierRepo, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

/** The classifier's config as Triton's docs write one: dynamic batching, two CPU instances, labels. */
const PBTXT = `# the text-orientation classifier, as a Triton user writes it
name: "${TEXT_ORIENTATION}"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [
  {
    name: "x"
    data_type: TYPE_FP32
    format: FORMAT_NCHW
    dims: [ 3, 48, 192 ]
  }
]
output [
  {
    name: "softmax_0.tmp_0"
    data_type: TYPE_FP32
    dims: [ 2 ]
    label_filename: "labels.txt"
  }
]
dynamic_batching {
  preferred_batch_size: [ 4, 8 ]
  max_queue_delay_microseconds: 100
}
instance_group [ { count: 2 kind: KIND_CPU } ]
parameters { key: "intra_op_thread_count" value: { string_value: "1" } }
`;

const SAME_AS_JSON = {
  name: TEXT_ORIENTATION,
  platform: 'onnxruntime_onnx',
  max_batch_size: 8,
  input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [3, 48, 192] }],
  output: [{ name: 'softmax_0.tmp_0', data_type: 'TYPE_FP32', dims: [2], label_filename: 'labels.txt' }],
  dynamic_batching: { preferred_batch_size: [4, 8], max_queue_delay_microseconds: 100 },
  instance_group: [{ count: 2, kind: 'KIND_CPU' }],
  parameters: { intra_op_thread_count: { string_value: '1' } },
};

/** A classifier repository whose config is `pbtxt` (config.json removed), and one with its JSON form. */
async function bothForms(pbtxt: string, json: Record<string, unknown>): Promise<{ pb: string; js: string }> {
  const pb = await classifierRepo();
  await rm(path.join(pb, TEXT_ORIENTATION, 'config.json'));
  await writeFile(path.join(pb, TEXT_ORIENTATION, 'config.pbtxt'), pbtxt);
  const js = await classifierRepo();
  await writeFile(path.join(js, TEXT_ORIENTATION, 'config.json'), JSON.stringify(json));
  return { pb, js };
}

test('config.pbtxt as Triton writes it reads to the config its config.json form gives', async () => {
  assert.deepEqual(parsePbtxt(PBTXT, 'config.pbtxt'), SAME_AS_JSON);
  const { pb, js } = await bothForms(PBTXT, SAME_AS_JSON);
  try {
    const fromPbtxt = await readModelDefinition(pb, TEXT_ORIENTATION);
    const fromJson = await readModelDefinition(js, TEXT_ORIENTATION);
    assert.deepEqual(fromPbtxt.versions[0].config, fromJson.versions[0].config);
    assert.deepEqual(fromPbtxt.versions[0].labels, fromJson.versions[0].labels);
    assert.deepEqual(fromPbtxt.leftOut, { instanceGroup: false, dynamicBatching: false });
  } finally {
    await removeDir(pb);
    await removeDir(js);
  }
});

test('a pbtxt repository serves over HTTP and gRPC the numbers of its JSON form', async () => {
  const { pb, js } = await bothForms(PBTXT, SAME_AS_JSON);
  const engines = [new Engine({ repository: pb, cores: 2 }), new Engine({ repository: js, cores: 2 })];
  const servers = [] as Awaited<ReturnType<typeof startServers>>[];
  try {
    for (const e of engines) await e.loadAll();
    for (const e of engines) servers.push(await startServers(e, { httpPort: 0, grpcPort: 0, metricsPort: null }));
    assert.equal(engines[0].model(TEXT_ORIENTATION).instances.length, 2, 'instance_group count 2 from the pbtxt');
    const input = { x: classifierInput(3, 7) };
    const http = await new HttpClient(`http://127.0.0.1:${servers[0].httpPort}`).infer(TEXT_ORIENTATION, input);
    const grpc = new GrpcClient(`127.0.0.1:${servers[0].grpcPort}`);
    const viaGrpc = await grpc.infer(TEXT_ORIENTATION, input);
    grpc.close();
    const reference = await new HttpClient(`http://127.0.0.1:${servers[1].httpPort}`).infer(TEXT_ORIENTATION, input);
    const out = 'softmax_0.tmp_0';
    assert.deepEqual([...http.outputs[out].data], [...reference.outputs[out].data]);
    assert.deepEqual([...viaGrpc.outputs[out].data], [...reference.outputs[out].data]);
  } finally {
    for (const s of servers) await s.close();
    for (const e of engines) await e.close();
    await removeDir(pb);
    await removeDir(js);
  }
});

test('a malformed config.pbtxt is refused with the line and column of the problem', () => {
  const cases: [string, RegExp][] = [
    [
      'name: "m"\nmax_batch_size: 8\ninput [ { name: "x" data_type: TYPE_FP33 } ]',
      /^f:3:32: unknown enum value "TYPE_FP33"/,
    ],
    ['name: "m"\n  nope: 1', /^f:2:3: unknown field "nope" for message inference.ModelConfig/],
    ['max_batch_size: "eight"', /^f:1:17: expected an integer, got a string/],
    ['input [ { name: "x" ', /^f:1:21: unexpected end of input/],
    ['name: "m"\ndynamic_batching { }\nsequence_batching { }', /^f:3:\d+: oneof "scheduling_choice" is already set/],
    ['max_batch_size: 99999999999', /^f:1:\d+: .*99999999999 out of range/],
  ];
  for (const [text, message] of cases)
    assert.throws(() => parsePbtxt(text, 'f'), { code: 'INVALID_ARG', message }, text);
});

test('fields Triton has and tenancy does not serve are refused by name, never dropped', () => {
  const cases: [string, RegExp][] = [
    ['sequence_batching { max_sequence_idle_microseconds: 5 }', /f: sequence_batching is not supported by tenancy/],
    ['ensemble_scheduling { step [ { model_name: "a" } ] }', /f: ensemble_scheduling is not supported/],
    ['optimization { execution_accelerators { gpu_execution_accelerator [ { name: "tensorrt" } ] } }', /optimization/],
    ['input [ { name: "x" dims: [1] optional: true } ]', /f: input\[0\]\.optional is not supported/],
    [
      'instance_group [ { kind: KIND_CPU gpus: [0] } ]',
      /instance_group\[0\]\.gpus is not supported by tenancy: gpus needs kind: KIND_GPU/,
    ],
    ['instance_group [ { count: 1 rate_limiter { priority: 1 } } ]', /instance_group\[0\]\.rate_limiter/],
  ];
  for (const [text, message] of cases)
    assert.throws(() => parsePbtxt(text, 'f'), { code: 'INVALID_ARG', message }, text);
  // Triton puts `count` instances on each GPU listed.
  assert.deepEqual(parsePbtxt('instance_group [ { count: 2 kind: KIND_GPU gpus: [0, 1] } ]', 'f').instance_group, [
    { count: 2, kind: 'KIND_GPU', device: 'gpu:0' },
    { count: 2, kind: 'KIND_GPU', device: 'gpu:1' },
  ]);
});

test('a folder with both config.pbtxt and config.json is refused naming both; a version policy reads', async () => {
  const repo = await classifierRepo();
  try {
    await writeFile(path.join(repo, TEXT_ORIENTATION, 'config.pbtxt'), PBTXT);
    const both = 'has both config.pbtxt and config.json: keep one (they hold the same fields)';
    await assert.rejects(readModelDefinition(repo, TEXT_ORIENTATION), {
      code: 'INVALID_ARG',
      message: `model "${TEXT_ORIENTATION}" ${both}`,
    });
    await rm(path.join(repo, TEXT_ORIENTATION, 'config.json'));
    await writeFile(
      path.join(repo, TEXT_ORIENTATION, 'config.pbtxt'),
      PBTXT.replace('"onnxruntime_onnx"', '"tensorrt_plan"'),
    );
    await assert.rejects(readModelDefinition(repo, TEXT_ORIENTATION), { message: /platform.*tensorrt_plan/ });
    await writeFile(
      path.join(repo, TEXT_ORIENTATION, 'config.pbtxt'),
      `${PBTXT}version_policy: { specific: { versions: [ 1 ] } }\n`,
    );
    const def = await readModelDefinition(repo, TEXT_ORIENTATION);
    assert.deepEqual(def.versions[0].config.version_policy, { specific: { versions: [1] } });
  } finally {
    await removeDir(repo);
  }
});

/** The quick-start densenet shape of config: client dims differ from the model's, by reshape. */
const RESHAPED = `name: "${TEXT_ORIENTATION}"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ { name: "x" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 9216 ] reshape { shape: [ 3, 48, 192 ] } } ]
output [
  {
    name: "softmax_0.tmp_0"
    data_type: TYPE_FP32
    dims: [ 1, 2 ]
    reshape { shape: [ 2 ] }
    label_filename: "labels.txt"
  }
]
`;

test('reshape: requests carry the config dims, the model runs its own shape, answers come back as dims', async () => {
  const { pb, js } = await bothForms(RESHAPED, SAME_AS_JSON);
  const engines = [new Engine({ repository: pb, cores: 2 }), new Engine({ repository: js, cores: 2 })];
  try {
    for (const e of engines) await e.loadAll();
    assert.deepEqual(
      engines[0].index().map((r) => r.state),
      ['READY'],
      engines[0].index()[0]?.reason,
    );
    const x = classifierInput(2, 5);
    const flat = { x: { ...x, shape: [2, 3, 9216] } };
    const got = await engines[0].infer(TEXT_ORIENTATION, flat);
    const want = await engines[1].infer(TEXT_ORIENTATION, { x });
    const out = 'softmax_0.tmp_0';
    assert.deepEqual(got.outputs[out].shape, [2, 1, 2]);
    assert.deepEqual([...got.outputs[out].data], [...want.outputs[out].data], 'the same numbers as the plain model');
    await assert.rejects(engines[0].infer(TEXT_ORIENTATION, { x }), { code: 'INVALID_ARG', message: /shape/ });
    // GET config over gRPC says the reshape, as over HTTP.
    const servers = await startServers(engines[0], { httpPort: 0, grpcPort: 0, metricsPort: null });
    const grpc = new GrpcClient(`127.0.0.1:${servers.grpcPort}`);
    try {
      const c = (await grpc.modelConfig(TEXT_ORIENTATION)) as unknown as ModelConfig;
      const http = await new HttpClient(`http://127.0.0.1:${servers.httpPort}`).modelConfig(TEXT_ORIENTATION);
      assert.deepEqual(c.input[0].reshape, { shape: [3, 48, 192] });
      assert.deepEqual(c.output[0].reshape, { shape: [2] });
      const fields = (ts: ModelConfig['input']) => ts.map((t) => [t.name, t.data_type, t.dims, t.reshape]);
      const h = http as unknown as ModelConfig;
      assert.deepEqual([fields(c.input), fields(c.output)], [fields(h.input), fields(h.output)]);
    } finally {
      grpc.close();
      await servers.close();
    }
  } finally {
    for (const e of engines) await e.close();
    await removeDir(pb);
    await removeDir(js);
  }
  const bad: [string, RegExp][] = [
    [
      RESHAPED.replace('[ 3, 48, 192 ]', '[ 3, 48, 190 ]'),
      /input\[0\]\.reshape\.shape.*must hold as many elements as dims \[3, 9216\]/,
    ],
    [
      RESHAPED.replace('[ 3, 48, 192 ]', '[ 3, 48, 192, 1, 1 ]'),
      /input\[0\]\.reshape\.shape.*must match the model file's dims/,
    ],
  ];
  for (const [text, message] of bad) {
    const { pb: repo, js: other } = await bothForms(text, SAME_AS_JSON);
    await assert.rejects(readModelDefinition(repo, TEXT_ORIENTATION), { code: 'INVALID_ARG', message });
    await removeDir(repo);
    await removeDir(other);
  }
});

const warmup = (dims: string, extra = '') =>
  `${PBTXT}model_warmup [ { name: "w" batch_size: 2 count: 3 ${extra}` +
  `inputs { key: "x" value: { data_type: TYPE_FP32 dims: [ ${dims} ] random_data: true } } } ]\n`;

test('model_warmup: instances run the sample before they are ready; a sample the model refuses fails', async () => {
  const { pb: good, js: other } = await bothForms(warmup('3, 48, 192'), SAME_AS_JSON);
  const { pb: wrong, js: other2 } = await bothForms(warmup('4, 48, 192'), SAME_AS_JSON);
  const engines = [new Engine({ repository: good, cores: 2 }), new Engine({ repository: wrong, cores: 2 })];
  try {
    const def = await readModelDefinition(good, TEXT_ORIENTATION);
    assert.deepEqual(def.versions[0].config.model_warmup, [
      {
        name: 'w',
        batch_size: 2,
        count: 3,
        inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 48, 192], random_data: true } },
      },
    ]);
    await engines[0].loadAll();
    assert.equal(engines[0].model(TEXT_ORIENTATION).state, 'ready');
    // The model takes 3 channels: a sample of 4 can only fail if the sample is what warms it up.
    await engines[1].loadAll();
    assert.deepEqual(
      engines[1].index().map((r) => r.state),
      ['UNAVAILABLE'],
    );
    assert.match(engines[1].index()[0].reason, /4|dimension|shape/i);
  } finally {
    for (const e of engines) await e.close();
    for (const d of [good, other, wrong, other2]) await removeDir(d);
  }
  const bad: [string, RegExp][] = [
    [
      warmup('3, 48, 192').replace('batch_size: 2', 'batch_size: 9'),
      /model_warmup\[0\]\.batch_size.*must not exceed max_batch_size \(8\)/,
    ],
    [
      warmup('3, 48, 192').replace('TYPE_FP32 dims', 'TYPE_INT32 dims'),
      /model_warmup\[0\]\.inputs\.x\.data_type.*must be TYPE_FP32/,
    ],
    [
      warmup('3, 48, 192').replace('random_data: true', 'input_data_file: "x.raw"'),
      /model_warmup\[0\]\.inputs\.x\.input_data_file ".*warmup\/x\.raw" cannot be read/,
    ],
    [
      warmup('3, 48, 192').replace('random_data: true', 'input_data_file: "../config.pbtxt"'),
      /model_warmup\[0\]\.inputs\.x\.input_data_file.*must be a file name in the model folder's warmup\//,
    ],
    [
      warmup('3, 48, 192').replace('random_data: true', 'random_data: true zero_data: true'),
      /config\.pbtxt:\d+:\d+: oneof "input_data_type" is already set/,
    ],
  ];
  for (const [text, message] of bad) {
    const { pb: repo, js: other3 } = await bothForms(text, SAME_AS_JSON);
    await assert.rejects(readModelDefinition(repo, TEXT_ORIENTATION), { code: 'INVALID_ARG', message });
    await removeDir(repo);
    await removeDir(other3);
  }
});

const withParameters = (params: string) =>
  PBTXT.replace(
    'parameters { key: "intra_op_thread_count" value: { string_value: "1" } }',
    params
      .split(',')
      .map((kv) => kv.split('='))
      .map(([k, v]) => `parameters { key: "${k}" value: { string_value: "${v}" } }`)
      .join('\n'),
  );

test("the ONNX Runtime backend's parameters map onto the session; CUDA ones are refused by name", async () => {
  const { pb, js } = await bothForms(
    withParameters('execution_mode=1,enable_mem_arena=0,enable_mem_pattern=0'),
    SAME_AS_JSON,
  );
  const engines = [new Engine({ repository: pb, cores: 2 }), new Engine({ repository: js, cores: 2 })];
  try {
    for (const e of engines) await e.loadAll();
    const x = classifierInput(2, 3);
    const [got, want] = await Promise.all(engines.map((e) => e.infer(TEXT_ORIENTATION, { x })));
    const out = 'softmax_0.tmp_0';
    assert.deepEqual([...got.outputs[out].data], [...want.outputs[out].data]);
  } finally {
    for (const e of engines) await e.close();
    await removeDir(pb);
    await removeDir(js);
  }
  const bad: [string, RegExp][] = [
    ['execution_mode=2', /parameters\.execution_mode\.string_value.*must be "0" \(sequential\) or "1" \(parallel\)/],
    ['gpu_mem_limit=1000', /parameters\.gpu_mem_limit.*is not served: a CUDA setting/],
    ['enable_mem_arena=maybe', /parameters\.enable_mem_arena\.string_value.*must be "0", "1", "true" or "false"/],
  ];
  for (const [params, message] of bad) {
    const { pb: repo, js: other } = await bothForms(withParameters(params), SAME_AS_JSON);
    await assert.rejects(readModelDefinition(repo, TEXT_ORIENTATION), { code: 'INVALID_ARG', message });
    await removeDir(repo);
    await removeDir(other);
  }
});
