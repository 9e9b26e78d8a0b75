import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Renderer } from './go-template.js';
import { classifierRepo, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';
import { freePort, httpStatus, startCliUntilReady } from '../fixtures/serve-process.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, checked field by field below
type Obj = Record<string, any>;

const CHART = 'deploy/helm/tenancy';
const chart = parse(readFileSync(`${CHART}/Chart.yaml`, 'utf8')) as Obj;
const values = parse(readFileSync(`${CHART}/values.yaml`, 'utf8')) as Obj;
const templates: Record<string, string> = {};
for (const f of readdirSync(`${CHART}/templates`)) templates[f] = readFileSync(`${CHART}/templates/${f}`, 'utf8');
const renderer = new Renderer(templates);

/** Helm's merge of values: maps merge key by key, anything else is replaced. */
function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' ? merge(out[k], v) : v;
  return out;
}

/** The chart as `helm template edge deploy/helm/tenancy -n tenancy` renders it, `over` merged into its values. */
function render(over: Obj = {}): { docs: Obj[]; notes: string } {
  const root = {
    Values: merge(values, over),
    Release: { Name: 'edge', Namespace: 'tenancy', Service: 'Helm' },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const docs: Obj[] = [];
  for (const f of Object.keys(templates).filter((f) => f.endsWith('.yaml')))
    for (const d of parseAllDocuments(renderer.render(f, root))) {
      assert.deepEqual(d.errors, [], `${f} renders to YAML that does not parse`);
      const js = d.toJS() as Obj | null;
      if (js) docs.push(js);
    }
  return { docs, notes: renderer.render('NOTES.txt', root) };
}

const one = (docs: Obj[], kind: string): Obj => {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in ${docs.map((d) => d.kind).join(', ')}`);
  return found[0];
};

test('the chart parses, is apiVersion v2 at the package version; each .Values it reads is in values.yaml', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.equal(chart.apiVersion, 'v2');
  assert.equal(chart.name, 'tenancy');
  assert.equal(chart.type, 'application');
  assert.match(chart.version, /^\d+\.\d+\.\d+$/);
  assert.equal(chart.appVersion, pkg.version, 'the image tag defaults to the package version');
  const missing: string[] = [];
  for (const [file, text] of Object.entries(templates))
    for (const m of text.matchAll(/\$?\.Values((?:\.[A-Za-z_]\w*)+)/g)) {
      let v: unknown = values;
      for (const key of m[1].slice(1).split('.')) {
        if (typeof v !== 'object' || v === null || !(key in v)) {
          missing.push(`${file}: .Values${m[1]}`);
          break;
        }
        v = (v as Obj)[key];
      }
    }
  assert.deepEqual(missing, [], 'values read by a template but missing in values.yaml');
});

test("rendered with its defaults: a DaemonSet of tenancy serve as the image's user, v2 probes, a Service", () => {
  const { docs, notes } = render();
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['DaemonSet', 'Service']);
  const ds = one(docs, 'DaemonSet');
  const svc = one(docs, 'Service');
  assert.equal(ds.apiVersion, 'apps/v1');
  assert.equal(ds.metadata.namespace, 'tenancy');
  const labels = ds.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(ds.spec.selector.matchLabels as Obj)) assert.equal(labels[k], v);
  for (const [k, v] of Object.entries(svc.spec.selector as Obj)) assert.equal(labels[k], v);
  const pod = ds.spec.template.spec;
  const uid = /^USER (\d+):(\d+)$/m.exec(readFileSync('deploy/container/Dockerfile', 'utf8'))!;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, Number(uid[1]), "the Dockerfile's user");
  assert.equal(pod.securityContext.runAsGroup, Number(uid[2]));
  assert.equal(pod.nodeSelector['kubernetes.io/os'], 'linux');
  const [c] = pod.containers;
  assert.equal(c.image, `${values.image.repository}:${chart.appVersion}`);
  assert.equal(c.args[0], 'serve');
  assert.ok(c.args.includes('--host=0.0.0.0'));
  assert.ok(!c.args.some((a: string) => a.startsWith('--model-repository')), 'the default repository');
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
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  const mounts = Object.fromEntries(c.volumeMounts.map((m: Obj) => [m.name, m.mountPath]));
  assert.deepEqual(mounts, { state: '/var/lib/tenancy', tmp: '/tmp' });
  const volumes = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v]));
  assert.deepEqual(volumes.state.hostPath, { path: '/var/lib/tenancy', type: 'DirectoryOrCreate' });
  const names = new Set(c.ports.map((p: Obj) => p.name));
  for (const p of svc.spec.ports) {
    assert.ok(names.has(p.targetPort), `service port ${p.name} targets a named port`);
    assert.equal(p.port, c.ports.find((q: Obj) => q.name === p.targetPort).containerPort);
  }
  assert.equal(svc.spec.internalTrafficPolicy, 'Local');
  assert.equal(ds.spec.template.metadata.annotations['prometheus.io/port'], '8002');
  assert.match(notes, /rollout status daemonset\/edge-tenancy/);
});

test('from a PVC, with a devices file and the KServe runtime: a Deployment, its claim, ConfigMap and runtime', () => {
  const devices = { simulated: { edgetpu: { latency_ms: { mobilenet_v2: 2.6 }, memory_bytes: 8388608 } } };
  const { docs } = render({
    workload: 'Deployment',
    replicas: 2,
    modelRepository: { source: 'pvc' },
    devices,
    servingRuntime: { enabled: true },
    serve: { extraArgs: ['--http-max-connections=64'] },
  });
  assert.deepEqual(docs.map((d) => d.kind).sort(), [
    'ConfigMap',
    'Deployment',
    'PersistentVolumeClaim',
    'Service',
    'ServingRuntime',
  ]);
  const dep = one(docs, 'Deployment');
  assert.equal(dep.spec.replicas, 2);
  const pod = dep.spec.template.spec;
  const [c] = pod.containers;
  for (const a of ['--model-repository=/models', '--devices=/etc/tenancy/devices.json', '--http-max-connections=64'])
    assert.ok(c.args.includes(a), `args carry ${a}: ${c.args.join(' ')}`);
  const volumes = Object.fromEntries(pod.volumes.map((v: Obj) => [v.name, v]));
  const mounts = Object.fromEntries(c.volumeMounts.map((m: Obj) => [m.name, m]));
  const pvc = one(docs, 'PersistentVolumeClaim');
  assert.deepEqual(volumes.models.persistentVolumeClaim, { claimName: pvc.metadata.name, readOnly: true });
  assert.deepEqual([mounts.models.mountPath, mounts.models.readOnly], ['/models', true]);
  assert.deepEqual(pvc.spec.resources.requests, { storage: '2Gi' });
  const cm = one(docs, 'ConfigMap');
  assert.equal(volumes.devices.configMap.name, cm.metadata.name);
  assert.equal(mounts.devices.mountPath, '/etc/tenancy');
  assert.deepEqual(JSON.parse(cm.data['devices.json']), devices);

  // The chart's runtime is deploy/kserve/servingruntime.yaml with the chart's image and labels.
  const rt = one(docs, 'ServingRuntime');
  const plain = parse(readFileSync('deploy/kserve/servingruntime.yaml', 'utf8')) as Obj;
  assert.equal(rt.metadata.name, plain.metadata.name);
  assert.equal(rt.spec.containers[0].image, `${values.image.repository}:${chart.appVersion}`);
  rt.spec.containers[0].image = plain.spec.containers[0].image;
  assert.deepEqual(rt.spec, plain.spec);

  const existing = render({ modelRepository: { source: 'pvc', existingClaim: 'my-models' } }).docs;
  assert.ok(!existing.some((d) => d.kind === 'PersistentVolumeClaim'), 'an existing claim is not made');
  const claim = one(existing, 'DaemonSet').spec.template.spec.volumes.find((v: Obj) => v.name === 'models');
  assert.equal(claim.persistentVolumeClaim.claimName, 'my-models');
  const host = one(render({ modelRepository: { source: 'hostPath' } }).docs, 'DaemonSet');
  const hostVolume = host.spec.template.spec.volumes.find((v: Obj) => v.name === 'models');
  assert.deepEqual(hostVolume.hostPath, { path: values.modelRepository.hostPath, type: 'Directory' });
  const cluster = one(
    render({ servingRuntime: { enabled: true, kind: 'ClusterServingRuntime' } }).docs,
    'ClusterServingRuntime',
  );
  assert.equal(cluster.metadata.namespace, undefined, 'cluster-scoped');
});

test('a workload, repository source or runtime kind the chart does not know fails the render, naming it', () => {
  assert.throws(() => render({ workload: 'StatefulSet' }), /workload must be DaemonSet or Deployment, not StatefulSet/);
  assert.throws(() => render({ modelRepository: { source: 's3' } }), /source must be default, hostPath or pvc, not s3/);
  assert.throws(
    () => render({ servingRuntime: { enabled: true, kind: 'Runtime' } }),
    /kind must be ServingRuntime or ClusterServingRuntime, not Runtime/,
  );
});

test("the test's renderer follows Go's template rules where the chart meets them, and refuses the rest", () => {
  const r = (t: string, v: Obj = {}) => new Renderer({ 't.yaml': t }).render('t.yaml', { Values: v });
  assert.equal(
    r('a:\n  {{- " b" }}\n  {{- /* c */ -}}\n  d'),
    'a: bd',
    'trim markers eat all whitespace on their side',
  );
  assert.equal(r('{{ .Values.n }} {{ .Values.m }} {{ .Values.f }}', { n: 8000, m: 1000000, f: 0.5 }), '8000 1e+06 0.5');
  assert.equal(r('[{{ .Values.missing }}]'), '[]');
  assert.equal(
    r('{{ if .Values.l }}y{{ else }}n{{ end }}{{ if .Values.m }}y{{ else }}n{{ end }}', { l: [], m: {} }),
    'nn',
  );
  assert.equal(r('{{ range .Values.l }}<{{ . | quote }}>{{ end }}', { l: ['a', 1] }), '<"a"><"1">');
  assert.equal(r('{{ .Values.t | default "x" }}{{ eq .Values.k "a" "b" }}', { t: '', k: 'b' }), 'xtrue');
  assert.equal(r('x:{{ toYaml .Values.o | nindent 2 }}', { o: { a: 1, b: [2] } }), 'x:\n  a: 1\n  b:\n    - 2');
  assert.throws(() => r('{{ sha256sum .Values.x }}'), /function "sha256sum" is not in the subset/);
  assert.throws(() => r('{{ range $i, $v := .Values.l }}{{ end }}'), /variables are not in the subset/);
  assert.throws(() => r('{{ if .Values.x }}'), /never closed/);
});

test("tenancy serve starts with the chart's args (ports, repository, devices swapped) and gets ready", async () => {
  const devices = { simulated: { edgetpu: { latency_ms: { mobilenet_v2: 2.6 }, memory_bytes: 8388608 } } };
  const { docs } = render({
    modelRepository: { source: 'pvc' },
    devices,
    serve: { extraArgs: ['--http-max-connections=64'] },
  });
  const c = one(docs, 'DaemonSet').spec.template.spec.containers[0];
  const repo = await classifierRepo();
  const devicesFile = path.join(repo, 'devices.json');
  await writeFile(devicesFile, one(docs, 'ConfigMap').data['devices.json']);
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  const swap: Record<string, string> = {
    '--host=0.0.0.0': '--host=127.0.0.1',
    '--http-port=8000': `--http-port=${http}`,
    '--grpc-port=8001': `--grpc-port=${grpc}`,
    '--metrics-port=8002': `--metrics-port=${metrics}`,
    '--model-repository=/models': `--model-repository=${repo}`,
    '--devices=/etc/tenancy/devices.json': `--devices=${devicesFile}`,
  };
  const args = (c.args as string[]).map((a) => swap[a] ?? a);
  assert.equal(args.filter((a, i) => a !== c.args[i]).length, Object.keys(swap).length, 'every swapped arg was there');
  // --profiles: the test's tunings stay in its repository, not in the checkout's .tenancy/
  args.push(`--profiles=${path.join(repo, 'profiles.db')}`);
  const serve = await startCliUntilReady(args, http);
  const out = serve.output();
  try {
    assert.equal(await httpStatus(`http://127.0.0.1:${http}/v2/health/live`), 200);
    assert.equal(await httpStatus(`http://127.0.0.1:${metrics}/metrics`), 200);
    assert.equal(await httpStatus(`http://127.0.0.1:${http}/v2/models/${TEXT_ORIENTATION}/ready`), 200);
    const placement = await (await fetch(`http://127.0.0.1:${http}/v2/placement`)).json();
    assert.ok(
      placement.devices.some((d: Obj) => d.device === 'sim:edgetpu'),
      'the devices file from the ConfigMap is read',
    );
    const line = out.split('\n').find((l) => l.includes('HTTP/REST'));
    assert.ok(line && JSON.parse(line).level === 30, `--log-format=json from the chart's args:\n${out}`);
  } finally {
    await serve.stop();
    await removeDir(repo);
  }
});
