import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { classifierRepo, removeDir } from '../fixtures/repo.js';
import { freePort, httpStatus, startCliUntilReady } from '../fixtures/serve-process.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, checked field by field below
type Obj = Record<string, any>;
const docs = (file: string): Obj[] =>
  parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], `${file} does not parse`);
    return d.toJS() as Obj;
  });

const runtime = docs('deploy/kserve/servingruntime.yaml');
const services = docs('deploy/kserve/inferenceservice.yaml');

test('the ServingRuntime carries what KServe requires: v2, onnx, kserve-container, 8080, probes, metrics', () => {
  assert.equal(runtime.length, 1);
  const rt = runtime[0];
  assert.equal(rt.apiVersion, 'serving.kserve.io/v1alpha1');
  assert.equal(rt.kind, 'ServingRuntime');
  assert.match(rt.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  assert.deepEqual(rt.spec.protocolVersions, ['v2', 'grpc-v2']);
  const onnx = rt.spec.supportedModelFormats.find((f: Obj) => f.name === 'onnx');
  assert.ok(onnx, 'supports the onnx model format');
  assert.equal(typeof onnx.version, 'string');
  assert.equal(onnx.autoSelect, true);
  assert.deepEqual(rt.spec.annotations, {
    'prometheus.kserve.io/port': '8002',
    'prometheus.kserve.io/path': '/metrics',
  });
  assert.equal(rt.spec.containers.length, 1);
  const c = rt.spec.containers[0];
  assert.equal(c.name, 'kserve-container', 'KServe merges the predictor into the container of this name');
  assert.equal(typeof c.image, 'string');
  assert.deepEqual(c.ports, [{ containerPort: 8080, protocol: 'TCP' }]);
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/v2/health/ready', port: 8080 });
  assert.deepEqual(c.livenessProbe.httpGet, { path: '/v2/health/live', port: 8080 });
  for (const flag of ['--model-repository=/mnt/models', '--http-port=8080', '--grpc-port=8081', '--metrics-port=8002'])
    assert.ok(c.args.includes(flag), `args carry ${flag}`);
  assert.equal(c.args[0], 'serve');
  assert.equal(c.securityContext.runAsNonRoot, true);
});

test('the example InferenceServices name the runtime, the onnx format and a storageUri; gRPC uses h2c 8081', () => {
  assert.equal(services.length, 2);
  for (const isvc of services) {
    assert.equal(isvc.apiVersion, 'serving.kserve.io/v1beta1');
    assert.equal(isvc.kind, 'InferenceService');
    const m = isvc.spec.predictor.model;
    assert.equal(m.runtime, runtime[0].metadata.name);
    assert.equal(m.modelFormat.name, 'onnx');
    assert.match(m.storageUri, /^(pvc|s3|gs|https?):\/\//);
    assert.ok(runtime[0].spec.protocolVersions.includes(m.protocolVersion));
  }
  const grpc = services.find((s) => s.spec.predictor.model.protocolVersion === 'grpc-v2')!;
  assert.deepEqual(grpc.spec.predictor.model.ports, [{ name: 'h2c', containerPort: 8081, protocol: 'TCP' }]);
});

test('the Dockerfile runs the installed tenancy as a non-root user, with serve as the default command', () => {
  const text = readFileSync('deploy/container/Dockerfile', 'utf8');
  const stages = text.match(/^FROM \S+/gm) ?? [];
  assert.deepEqual(stages, ['FROM node:24-bookworm', 'FROM node:24-bookworm-slim']);
  assert.match(text, /npm install --omit=dev .*\/tmp\/tenancy-\*\.tgz/);
  assert.match(text, /^ENV ONNXRUNTIME_NODE_INSTALL=skip$/m);
  assert.match(text, /^USER 10001:10001$/m);
  assert.match(text, /useradd --system --uid 10001 /);
  assert.match(text, /^ENTRYPOINT \["\/opt\/tenancy\/node_modules\/\.bin\/tenancy"\]$/m);
  assert.match(text, /^CMD \["serve", "--host", "0\.0\.0\.0"\]$/m);
  assert.match(text, /^EXPOSE .*\b8080\b.*\b8081\b/m);
});

test('the k3s manifests: a DaemonSet of tenancy serve as the image user, probes on v2 health, a Service', () => {
  const [ns, ds, svc] = docs('deploy/k3s/tenancy.yaml');
  assert.deepEqual([ns.kind, ds.kind, svc.kind], ['Namespace', 'DaemonSet', 'Service']);
  assert.equal(ds.apiVersion, 'apps/v1');
  assert.equal(ds.metadata.namespace, ns.metadata.name);
  assert.equal(svc.metadata.namespace, ns.metadata.name);
  const labels = ds.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(ds.spec.selector.matchLabels as Obj)) assert.equal(labels[k], v);
  for (const [k, v] of Object.entries(svc.spec.selector as Obj)) assert.equal(labels[k], v);
  const pod = ds.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, 10001, 'the uid of the Dockerfile');
  const [c] = pod.containers;
  assert.equal(c.args[0], 'serve');
  assert.ok(c.args.includes('--host=0.0.0.0'));
  assert.deepEqual(
    c.ports.map((p: Obj) => [p.name, p.containerPort]),
    [
      ['http', 8000],
      ['grpc', 8001],
      ['metrics', 8002],
    ],
  );
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/v2/health/ready', port: 'http' });
  assert.deepEqual(c.livenessProbe.httpGet, { path: '/v2/health/live', port: 'http' });
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  const mounts = c.volumeMounts.map((m: Obj) => m.mountPath);
  assert.ok(mounts.includes('/var/lib/tenancy'), 'the working folder (.tenancy/) is a volume');
  const names = new Set(c.ports.map((p: Obj) => p.name));
  for (const p of svc.spec.ports) assert.ok(names.has(p.targetPort), `service port ${p.name} targets a named port`);
  assert.equal(ds.spec.template.metadata.annotations['prometheus.io/port'], '8002');
});

test("tenancy serve starts with the runtime's args (free ports, a test repository) and gets ready", async () => {
  const repo = await classifierRepo();
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const swap: Record<string, string> = {
    '--model-repository=/mnt/models': `--model-repository=${repo}`,
    '--http-port=8080': `--http-port=${http}`,
    '--grpc-port=8081': `--grpc-port=${grpc}`,
    '--metrics-port=8002': `--metrics-port=${metrics}`,
    '--host=0.0.0.0': '--host=127.0.0.1',
  };
  const args = (runtime[0].spec.containers[0].args as string[]).map((a) => swap[a] ?? a);
  const serve = await startCliUntilReady(args, http);
  const out = serve.output();
  try {
    assert.equal(await httpStatus(`http://127.0.0.1:${http}/v2/health/live`), 200);
    assert.equal(await httpStatus(`http://127.0.0.1:${metrics}/metrics`), 200);
    assert.equal(await httpStatus(`http://127.0.0.1:${http}/v2/models/text_orientation/ready`), 200);
    // --log-format=json from the runtime's args: stdout is pino records
    const line = out.split('\n').find((l) => l.includes('HTTP/REST'));
    assert.ok(line && JSON.parse(line).level === 30, out);
  } finally {
    await serve.stop();
    await removeDir(repo);
  }
});
