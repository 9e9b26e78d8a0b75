import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { classifierInput } from '../fixtures/repo.js';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { serveClassifier, post, get, TEXT_ORIENTATION, type Served } from './serve-fixture.js';

// Three defects a hostile client found in the repository extension: a config override that asked
// for 10^9 instances killed the process; a load named "../../x" (or "..") with files wrote them
// outside the upload folder before the name was refused; a failed load of a model the repository
// does not have left the server not ready and the name in the index.
let s: Served;
let grpcClient: GrpcClient;
before(async () => {
  s = await serveClassifier({ modelControlMode: 'explicit' });
  grpcClient = new GrpcClient(s.grpc);
});
after(async () => {
  grpcClient.close();
  await s.close();
});

/** POST with node:http, which sends the path as written (fetch resolves "..", "%2e%2e" away). */
function load(name: string, parameters: Record<string, unknown>): Promise<{ status: number; body: { error: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: s.servers.httpPort!,
        method: 'POST',
        path: `/v2/repository/models/${name}/load`,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ parameters }));
  });
}
const grpcLoad = (name: string, parameters: Record<string, unknown>) =>
  grpcClient.call('RepositoryModelLoad', { model_name: name, parameters }).then(
    () => ({ code: 0, details: '' }),
    (err: { status: number; message: string }) => ({ code: err.status, details: err.message }),
  );
const stillServes = async () => {
  const r = await new HttpClient(s.http).infer(TEXT_ORIENTATION, { x: classifierInput(1) });
  assert.deepEqual(r.outputs['softmax_0.tmp_0'].shape, [1, 2]);
};

test('a load whose name or file path leaves the upload folder writes nothing, on HTTP and gRPC', async () => {
  const mark = `tenancy-escape-${process.pid}-${Date.now()}`;
  // Where the files would land if the name were used as a path: the upload folder is os.tmpdir()/tenancy-upload-XXXX.
  const escapes = [path.join(os.tmpdir(), '..', mark), path.join(os.tmpdir(), mark), path.join(os.tmpdir(), '1', mark)];
  const config = JSON.stringify({ name: 'x' });
  const names = [`..%2f..%2f${mark}`, '..', '%2e%2e', '.', `..%2f${mark}`, '.hidden', `a%2f..%2f..%2f${mark}`];
  for (const name of names) {
    const r = await load(name, { config, [`file:1/${mark}`]: 'aGVsbG8=', [`file:${mark}/x`]: 'aGVsbG8=' });
    assert.equal(r.status, 400, `${name}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, /invalid model name/, name);
  }
  for (const name of [`../../${mark}`, '..', `../${mark}`, '.']) {
    const g = await grpcLoad(name, {
      config: { string_param: config },
      [`file:1/${mark}`]: { bytes_param: Buffer.from('hello') },
      [`file:${mark}/x`]: { bytes_param: Buffer.from('hello') },
    });
    assert.equal(g.code, grpc.status.INVALID_ARGUMENT, `${name}: ${g.details}`);
    assert.match(g.details, /invalid model name/, name);
  }
  for (const file of [`../${mark}`, `/tmp/${mark}`, `1/../../${mark}`, `1/x\u0000y`, `1\\..\\${mark}`, '']) {
    const r = await load('pushed', { config: JSON.stringify({ name: 'pushed' }), [`file:${file}`]: 'aGVsbG8=' });
    assert.equal(r.status, 400, `${file}: ${JSON.stringify(r.body)}`);
    assert.match(r.body.error, /must name a path inside the model's folder/, file);
  }
  for (const p of escapes) assert.equal(existsSync(p), false, `nothing was written at ${p}`);
  await stillServes();
});

test(
  'a failed load of a model the repository does not have changes neither readiness nor the index, ' +
    'on HTTP and gRPC',
  async () => {
    const indexNames = async () =>
      ((await post(`${s.http}/v2/repository/index`, {})).body as { name: string }[]).map((r) => r.name);
    const before = await indexNames();
    const r = await load('nosuch', {});
    assert.equal(r.status, 404);
    assert.match(r.body.error, /unknown model "nosuch"/);
    const g = await grpcLoad('nosuch_grpc', {});
    assert.equal(g.code, grpc.status.NOT_FOUND, g.details);
    assert.equal((await load('..', {})).status, 400);
    assert.equal((await get(`${s.http}/v2/health/ready`)).status, 200, 'the server is still ready');
    assert.equal(await grpcClient.ready(), true);
    assert.deepEqual(await indexNames(), before, 'no row for the names that do not exist');
    assert.deepEqual(
      (await grpcClient.repositoryIndex()).map((m) => m.name),
      before,
    );
  },
);

test(
  'a refused load that sent files leaves no trace (readiness, index) ' + 'and names no server path, on HTTP and gRPC',
  async () => {
    const indexNames = async () =>
      ((await post(`${s.http}/v2/repository/index`, {})).body as { name: string }[]).map((r) => r.name);
    const before = await indexNames();
    const config = (name: string) =>
      JSON.stringify({
        name,
        max_batch_size: 0,
        input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [1] }],
        output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1] }],
      });
    const r = await load('garbage_up', {
      config: config('garbage_up'),
      'file:1/model.onnx': Buffer.from('garbage!').toString('base64'),
    });
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.doesNotMatch(r.body.error, /tenancy-upload-|\/tmp\//, `no server path in: ${r.body.error}`);
    const badConfig = await load('bad_up', {
      config: JSON.stringify({ name: 'bad_up', instance_group: [{ count: 0 }] }),
      'file:1/model.onnx': 'aGVsbG8=',
    });
    assert.equal(badConfig.status, 400);
    const g = await grpcLoad('garbage_grpc', {
      config: { string_param: config('garbage_grpc') },
      'file:1/model.onnx': { bytes_param: Buffer.from('garbage!') },
    });
    assert.equal(g.code, grpc.status.INVALID_ARGUMENT, g.details);
    assert.equal((await get(`${s.http}/v2/health/ready`)).status, 200, 'still ready');
    assert.equal(await grpcClient.ready(), true);
    assert.deepEqual(await indexNames(), before);
  },
);

test(
  'a placement with thousands of entries is refused by count, ' + 'and one with many bad entries names the first ten',
  async () => {
    const put = async (entries: unknown[]) => {
      const r = await fetch(`${s.http}/v2/placement`, { method: 'PUT', body: JSON.stringify({ entries }) });
      return { status: r.status, error: ((await r.json()) as { error: string }).error };
    };
    const many = await put(
      Array.from({ length: 40_000 }, () => ({ model: 'nope', device: 'cpu', instances: 1, threads: 1 })),
    );
    assert.equal(many.status, 400);
    assert.match(many.error, /"entries" holds 40000 entries, more than this server takes \(at most 1024\)/);
    const bad = await put(
      Array.from({ length: 50 }, (_, i) => ({ model: `nope${i}`, device: 'cpu', instances: 1, threads: 1 })),
    );
    assert.equal(bad.status, 400);
    assert.match(bad.error, /model "nope9" is not loaded.*; and 40 more$/);
    assert.ok(bad.error.length < 2000, `${bad.error.length} characters`);
  },
);

// Last: without its fix this one kills the server process, and the file with it.
test(
  "counts past the limits in a load's config override are a 400 / INVALID_ARGUMENT naming the field, " +
    'and the server lives on',
  async () => {
    const overrides: [Record<string, unknown>, RegExp][] = [
      [
        { instance_group: [{ count: 1_000_000_000 }] },
        /instance_group\[0\]\.count" must be an integer from 1 to 256, got 1000000000/,
      ],
      [
        { instance_group: [{ count: 200 }, { count: 200 }] },
        /"instance_group" must ask for at most 256 instances in all, got "400 instances"/,
      ],
      [
        { instance_group: [{ count: 1, threads: 1_000_000 }] },
        /instance_group\[0\]\.threads" must be an integer from 1 to 256/,
      ],
      [
        { dynamic_batching: { priority_levels: 1_000_000_000 } },
        /dynamic_batching\.priority_levels" must be an integer from 0 to 64/,
      ],
      [
        { parameters: { intra_op_thread_count: { string_value: '100000' } } },
        /intra_op_thread_count\.string_value" must be a positive integer up to 256/,
      ],
    ];
    for (const [override, message] of overrides) {
      const config = JSON.stringify({ ...override });
      const r = await load(TEXT_ORIENTATION, { config });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error, message);
      const g = await grpcLoad(TEXT_ORIENTATION, { config: { string_param: config } });
      assert.equal(g.code, grpc.status.INVALID_ARGUMENT, g.details);
      assert.match(g.details, message);
    }
    const placed = await fetch(`${s.http}/v2/placement`, {
      method: 'PUT',
      body: JSON.stringify({
        entries: [{ model: TEXT_ORIENTATION, device: 'cpu', instances: 1_000_000_000, threads: 1 }],
      }),
    });
    assert.equal(placed.status, 400);
    assert.match(
      ((await placed.json()) as { error: string }).error,
      /placement refused: cpu: text_orientation 1000000000 x 1 thread/,
    );
    await stillServes();
    assert.equal(
      (await get(`${s.http}/v2/health/ready`)).status,
      200,
      'a refused override of a serving model leaves it serving',
    );
  },
);
