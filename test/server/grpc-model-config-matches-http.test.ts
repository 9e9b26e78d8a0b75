import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient, type ServerError } from '../../src/client/index.js';
import { grpcModelConfig } from '../../src/server/grpc/model-config.js';
import type { ModelConfig } from '../../src/repository/index.js';
import { get, serveClassifier, TEXT_ORIENTATION, OUTPUT, type Served } from './serve-fixture.js';

// The classifier with labels, two instances and a dynamic batcher with priority levels.
const CONFIG = {
  instance_group: [{ count: 2, kind: 'KIND_CPU' }],
  dynamic_batching: {
    preferred_batch_size: [4, 8],
    max_queue_delay_microseconds: 500,
    priority_levels: 2,
    default_priority_level: 2,
    priority_queue_policy: { 1: { max_queue_size: 7 } },
  },
  model_warmup: [
    { name: 'w', batch_size: 2, inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 48, 192], random_data: true } } },
    { name: 'z', inputs: { x: { data_type: 'TYPE_FP32', dims: [3, 48, 192] } } },
  ],
};

let s: Served;
let client: GrpcClient;
before(async () => {
  s = await serveClassifier({}, async () => {}, CONFIG);
  client = new GrpcClient(s.grpc);
});
after(async () => {
  client.close();
  await s.close();
});

test('gRPC ModelConfig answers what GET /v2/models/{m}/config answers', async () => {
  const http = (await get(`${s.http}/v2/models/${TEXT_ORIENTATION}/config`)).body as ModelConfig;
  for (const version of [undefined, 1]) {
    const c = (await client.modelConfig(TEXT_ORIENTATION, version)) as unknown as ModelConfig;
    assert.equal(c.name, http.name);
    assert.equal(c.platform, http.platform);
    assert.equal(c.max_batch_size, http.max_batch_size);
    assert.equal(c.max_batch_size, 32);
    assert.deepEqual(
      c.input.map((t) => [t.name, t.data_type, t.dims]),
      http.input.map((t) => [t.name, t.data_type, t.dims]),
    );
    assert.deepEqual(c.input[0].dims, [3, 48, 192]);
    assert.deepEqual(
      c.output.map((t) => [t.name, t.data_type, t.dims, t.label_filename]),
      http.output.map((t) => [t.name, t.data_type, t.dims, t.label_filename]),
    );
    assert.deepEqual(c.output[0].label_filename, 'labels.txt');
    assert.deepEqual(
      c.instance_group.map((g) => [g.count, g.kind]),
      http.instance_group.map((g) => [g.count, g.kind]),
    );
    assert.deepEqual(c.version_policy, http.version_policy);
    assert.equal(c.default_model_filename, http.default_model_filename);
    assert.deepEqual(c.parameters, http.parameters);
    const [g, h] = [c.dynamic_batching!, http.dynamic_batching!];
    assert.deepEqual(g.preferred_batch_size, [4, 8]);
    assert.deepEqual(g.preferred_batch_size, h.preferred_batch_size);
    assert.equal(g.max_queue_delay_microseconds, h.max_queue_delay_microseconds);
    assert.equal(g.priority_levels, h.priority_levels);
    assert.equal(g.default_priority_level, h.default_priority_level);
    assert.deepEqual(g.default_queue_policy, h.default_queue_policy);
    assert.deepEqual(g.priority_queue_policy, h.priority_queue_policy);
    assert.deepEqual(c.model_warmup, http.model_warmup);
    assert.deepEqual(
      c.model_warmup?.map((w) => [w.name, w.batch_size, w.count, w.inputs.x.random_data ?? false]),
      [
        ['w', 2, 1, true],
        ['z', 1, 1, false],
      ],
    );
  }
});

test('unknown models and versions get the status and message ModelMetadata gets', async () => {
  for (const [model, version, code, pattern] of [
    ['nope', undefined, 5, /unknown model "nope"/],
    [TEXT_ORIENTATION, 4, 5, /no loaded version 4/],
  ] as const) {
    const metadata = await client.modelMetadata(model, version).then(
      () => null,
      (e: ServerError) => e,
    );
    await assert.rejects(client.modelConfig(model, version), (e: ServerError) => {
      assert.equal(e.status, code);
      assert.match(e.message, pattern);
      assert.deepEqual([e.status, e.message], [metadata?.status, metadata?.message]);
      return true;
    });
  }
});

test("the response bytes carry Triton's model_config.proto field numbers", async () => {
  const config = msg(fields(await rawModelConfig(s.grpc, TEXT_ORIENTATION)), 1);
  assert.equal(str(config, 1), TEXT_ORIENTATION);
  assert.equal(str(config, 2), 'onnxruntime_onnx');
  assert.equal(int(msg(msg(config, 3), 1), 1), 1); // version_policy.latest.num_versions
  assert.equal(int(config, 4), 32);
  const input = msg(config, 5);
  assert.deepEqual([str(input, 1), int(input, 2), ints(input, 4)], ['x', 11 /* TYPE_FP32 */, [3, 48, 192]]);
  const output = msg(config, 6);
  assert.deepEqual([str(output, 1), int(output, 2), ints(output, 3), str(output, 4)], [OUTPUT, 11, [2], 'labels.txt']);
  const group = msg(config, 7);
  assert.deepEqual([int(group, 2), int(group, 4)], [2, 2 /* KIND_CPU */]);
  assert.equal(str(config, 8), 'model.onnx');
  const batching = msg(config, 11);
  assert.deepEqual([ints(batching, 1), int(batching, 2), int(batching, 4), int(batching, 5)], [[4, 8], 500, 2, 2]);
  assert.equal(int(msg(batching, 6), 4), 1024); // default_queue_policy.max_queue_size
  const level = msg(batching, 7); // a map<uint64, ModelQueuePolicy> entry: key 1, value 2
  assert.deepEqual([int(level, 1), int(msg(level, 2), 4)], [1, 7]);
  const parameter = msg(config, 14);
  assert.equal(str(parameter, 1), 'source');
  assert.match(str(msg(parameter, 2), 1), /PaddleOCR/);
});

test('a group on gpu:N lists N in gpus; host and threads are left out', () => {
  const group = { count: 1, kind: 'KIND_GPU', host: 'process', device: 'gpu:1', threads: 2 } as const;
  const config = {
    name: 'm',
    platform: 'onnxruntime_onnx',
    max_batch_size: 0,
    input: [],
    output: [],
    instance_group: [group, { ...group, device: 'sim:a' }],
    version_policy: { all: {} },
    default_model_filename: 'model.onnx',
    parameters: {},
  } as unknown as ModelConfig;
  assert.deepEqual(grpcModelConfig(config).instance_group, [
    { name: '', kind: 'KIND_GPU', count: 1, gpus: [1] },
    { name: '', kind: 'KIND_GPU', count: 1, gpus: [] },
  ]);
});

/** Calls ModelConfig with a hand-encoded request and returns the response undecoded. */
async function rawModelConfig(address: string, model: string): Promise<Buffer> {
  const same = (b: Buffer) => b;
  const Raw = grpc.makeGenericClientConstructor(
    {
      ModelConfig: {
        path: '/inference.GRPCInferenceService/ModelConfig',
        requestStream: false,
        responseStream: false,
        requestSerialize: same,
        requestDeserialize: same,
        responseSerialize: same,
        responseDeserialize: same,
      },
    },
    'Raw',
  );
  const raw = new Raw(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    ModelConfig: (req: Buffer, cb: (e: Error | null, res: Buffer) => void) => void;
  };
  const name = Buffer.from(model);
  const request = Buffer.concat([Buffer.from([0x0a, name.length]), name]); // field 1 (name), length-delimited
  try {
    return await new Promise((resolve, reject) => raw.ModelConfig(request, (e, res) => (e ? reject(e) : resolve(res))));
  } finally {
    raw.close();
  }
}

// A minimal protobuf wire reader, independent of protobufjs: varint (0) and length-delimited (2) fields.
interface Field {
  no: number;
  varint?: bigint;
  bytes?: Buffer;
}

function varint(b: Buffer, at: number): [bigint, number] {
  let v = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const byte = b[at++];
    v |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [v, at];
  }
}

function fields(b: Buffer): Field[] {
  const out: Field[] = [];
  for (let at = 0; at < b.length; ) {
    const [key, next] = varint(b, at);
    const [no, wire] = [Number(key >> 3n), Number(key & 7n)];
    const [v, end] = varint(b, next);
    if (wire === 0) out.push({ no, varint: v });
    else if (wire === 2) out.push({ no, bytes: b.subarray(end, end + Number(v)) });
    else throw new Error(`field ${no}: wire type ${wire} is not expected here`);
    at = wire === 2 ? end + Number(v) : end;
  }
  return out;
}

const field = (fs: Field[], no: number) => fs.find((f) => f.no === no);
const msg = (fs: Field[], no: number) => fields(field(fs, no)?.bytes ?? Buffer.alloc(0));
const str = (fs: Field[], no: number) => field(fs, no)?.bytes?.toString('utf8') ?? '';
const int = (fs: Field[], no: number) => Number(field(fs, no)?.varint ?? 0n);

/** A repeated integer field, packed (one length-delimited run of varints) or not. */
function ints(fs: Field[], no: number): number[] {
  const out: number[] = [];
  for (const f of fs.filter((x) => x.no === no)) {
    if (f.varint !== undefined) out.push(Number(f.varint));
    else
      for (let at = 0, b = f.bytes!; at < b.length; ) {
        const [v, next] = varint(b, at);
        out.push(Number(v));
        at = next;
      }
  }
  return out;
}
