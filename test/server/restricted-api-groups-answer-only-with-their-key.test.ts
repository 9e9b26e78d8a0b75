import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { loadInferenceService } from '../../src/protocol/grpc-proto.js';
import { parseRestriction, type Restriction } from '../../src/server/index.js';
import { GRPC_API_GROUPS, httpApiGroup } from '../../src/server/restricted-apis.js';
import { startServers } from '../../src/server/index.js';
import { classifierInput } from '../fixtures/repo.js';
import { serveClassifier, TEXT_ORIENTATION } from './serve-fixture.js';

const ADMIN: Restriction = parseRestriction('model-repository,shared-memory,placement:admin-key=s3cret', 'flag');

test('a restriction flag is <groups>:<key>=<value>; a wrong one is refused naming the part and the value', () => {
  assert.deepEqual(parseRestriction('model-repository,statistics:Admin-Key=a=b', 'f'), {
    groups: ['model-repository', 'statistics'],
    key: 'admin-key',
    value: 'a=b',
  });
  const bad: [string, RegExp][] = [
    ['model-repository', /f must be <group>\[,<group>\.\.\.\]:<key>=<value>, got "model-repository"/],
    ['repository:k=v', /f: unknown API group "repository" \(groups: health, metadata, inference/],
    ['inference:k=', /f: the value for header "k" is empty/],
    ['inference:bad key=v', /f: "bad key" is not a valid header name/],
    [':k=v', /f must be/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseRestriction(text, 'f'), { code: 'INVALID_ARG', message });
});

test('every HTTP route and every gRPC method belongs to a group, sorted as Triton sorts them', () => {
  const routes: [string, string][] = [
    ['/v2', 'metadata'],
    ['/v2/health/ready', 'health'],
    ['/v2/models/m/versions/1/ready', 'health'],
    ['/v2/models/m', 'metadata'],
    ['/v2/models/m/versions/2', 'metadata'],
    ['/v2/models/m/infer', 'inference'],
    ['/v2/models/m/config', 'model-config'],
    ['/v2/models/m/stats', 'statistics'],
    ['/v2/models/stats', 'statistics'],
    ['/v2/repository/index', 'model-repository'],
    ['/v2/repository/models/m/load?x=1', 'model-repository'],
    ['/v2/systemsharedmemory/region/r/register', 'shared-memory'],
    ['/v2/placement', 'placement'],
  ];
  for (const [url, group] of routes) assert.equal(httpApiGroup(url), group, url);
  assert.equal(httpApiGroup('/v2/nothing/here'), null);
  const methods = Object.keys(loadInferenceService().service);
  assert.deepEqual(
    methods.filter((m) => !(m in GRPC_API_GROUPS)),
    [],
    'a gRPC method without a group',
  );
});

test(
  'restricted groups answer 403 / UNAVAILABLE without the key and serve with it; ' + 'open groups serve anyone',
  async () => {
    const s = await serveClassifier({
      modelControlMode: 'explicit',
      allowClientShm: true,
      restrictedHttp: [ADMIN],
      restrictedGrpc: [ADMIN],
    });
    try {
      // HTTP: inference and health are open, the repository, shared memory and placement need the key.
      const anyone = new HttpClient(s.http);
      const admin = new HttpClient(s.http, { headers: { 'admin-key': 's3cret' } });
      const liar = new HttpClient(s.http, { headers: { 'admin-key': 's3cre' } });
      assert.deepEqual(
        (await anyone.infer(TEXT_ORIENTATION, { x: classifierInput(1) })).outputs['softmax_0.tmp_0'].shape,
        [1, 2],
      );
      for (const path of ['/v2/repository/index', '/v2/systemsharedmemory/status', '/v2/placement']) {
        const method = path === '/v2/repository/index' ? 'POST' : 'GET';
        const refused = await fetch(s.http + path, { method });
        assert.equal(refused.status, 403, path);
        assert.deepEqual(await refused.json(), { error: "This API is restricted, expecting header 'admin-key'" });
        const wrong = await fetch(s.http + path, { method, headers: { 'admin-key': 'nope' } });
        assert.equal(wrong.status, 403, `${path} with a wrong key`);
        const ok = await fetch(s.http + path, { method, headers: { 'Admin-Key': 's3cret' } });
        assert.equal(ok.status, 200, `${path} with the key`);
      }
      await assert.rejects(liar.unload(TEXT_ORIENTATION), { status: 403 });
      assert.equal(await anyone.ready(), true, 'the refusals changed nothing');
      await admin.unload(TEXT_ORIENTATION);
      await admin.load(TEXT_ORIENTATION);

      // gRPC: the key travels as metadata triton-grpc-protocol-<key>, as Triton's clients send it.
      const plain = new GrpcClient(s.grpc);
      const keyed = new GrpcClient(s.grpc, { metadata: { 'triton-grpc-protocol-admin-key': 's3cret' } });
      try {
        assert.deepEqual(
          (await plain.infer(TEXT_ORIENTATION, { x: classifierInput(2) })).outputs['softmax_0.tmp_0'].shape,
          [2, 2],
        );
        await assert.rejects(plain.unload(TEXT_ORIENTATION), {
          status: grpc.status.UNAVAILABLE,
          message: /This protocol is restricted, expecting header 'triton-grpc-protocol-admin-key'/,
        });
        await keyed.unload(TEXT_ORIENTATION);
        await assert.rejects(plain.infer(TEXT_ORIENTATION, { x: classifierInput(1) }), {
          status: grpc.status.UNAVAILABLE,
        });
        await keyed.load(TEXT_ORIENTATION);
        assert.equal(await plain.ready(), true);
      } finally {
        plain.close();
        keyed.close();
      }
    } finally {
      await s.close();
    }
  },
);

test('a restricted inference group refuses a gRPC stream without the key before it reads a request', async () => {
  const inferKey = parseRestriction('inference:infer-key=k', 'flag');
  const s = await serveClassifier({ restrictedGrpc: [inferKey] });
  const plain = new GrpcClient(s.grpc);
  const keyed = new GrpcClient(s.grpc, { metadata: { 'triton-grpc-protocol-infer-key': 'k' } });
  try {
    const refused = plain.stream();
    await assert.rejects(refused.infer(TEXT_ORIENTATION, { x: classifierInput(1) }), {
      message: /This protocol is restricted, expecting header 'triton-grpc-protocol-infer-key'/,
    });
    refused.end();
    const stream = keyed.stream();
    assert.deepEqual(
      (await stream.infer(TEXT_ORIENTATION, { x: classifierInput(1) })).outputs['softmax_0.tmp_0'].shape,
      [1, 2],
    );
    stream.end();
    // HTTP inference stays open: the restriction was for gRPC only.
    const open = await new HttpClient(s.http).infer(TEXT_ORIENTATION, { x: classifierInput(1) });
    assert.deepEqual(open.outputs['softmax_0.tmp_0'].shape, [1, 2]);
  } finally {
    plain.close();
    keyed.close();
    await s.close();
  }
});

test('a group restricted twice is refused before any port opens', async () => {
  const s = await serveClassifier({ httpPort: null, grpcPort: null, metricsPort: null });
  try {
    await assert.rejects(
      startServers(s.engine, {
        httpPort: 0,
        restrictedHttp: [parseRestriction('placement:a=1', 'f'), parseRestriction('statistics,placement:b=2', 'f')],
      }),
      { code: 'INVALID_ARG', message: /--http-restricted-api: API group "placement" is restricted twice/ },
    );
  } finally {
    await s.close();
  }
});
