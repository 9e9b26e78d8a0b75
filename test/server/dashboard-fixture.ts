/**
 * A served repository for the dashboard tests: the real classifier, a copy of it with a queue of
 * one (to fill), a copy in a child process (to kill and see restart), and a model whose file is
 * not ONNX (it fails to load, with a reason). Plus a bench report folder to link.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GrpcClient, HttpClient } from '../../src/client/index.js';
import { Engine } from '../../src/index.js';
import { startServers, type ServerOptions } from '../../src/server/index.js';
import {
  classifierInput,
  classifierRepo,
  cloneModel,
  patchConfig,
  removeDir,
  tempDir,
  writeRaw,
} from '../fixtures/repo.js';
import { TEXT_ORIENTATION, type Served } from './serve-fixture.js';

export { TEXT_ORIENTATION };
export const SMALL_QUEUE = 'small_queue';
export const CRASHY = 'crashy';
export const BROKEN = 'broken';

export interface DashboardServed extends Served {
  reports: string;
}

export async function serveDashboard(options: ServerOptions = {}): Promise<DashboardServed> {
  const reports = await tempDir('tenancy-reports-');
  await mkdir(path.join(reports, 'cme-20261204T120000'), { recursive: true });
  await writeFile(path.join(reports, 'cme-20261204T120000', 'index.html'), '<h1>cme report</h1>');
  await writeFile(path.join(reports, 'cme-20261204T120000', 'throughput.svg'), '<svg></svg>');
  const repo = await classifierRepo();
  await cloneModel(repo, TEXT_ORIENTATION, SMALL_QUEUE);
  await patchConfig(repo, SMALL_QUEUE, { queue_policy: { max_queue_size: 1 } });
  await cloneModel(repo, TEXT_ORIENTATION, CRASHY);
  await patchConfig(repo, CRASHY, { instance_group: [{ count: 1, host: 'process' }] });
  await cloneModel(repo, TEXT_ORIENTATION, BROKEN);
  await writeRaw(repo, path.join(BROKEN, '1', 'model.onnx'), 'this is not an ONNX file');
  // A thread budget of 8: three models and a placement change fit whatever the machine's cores.
  const engine = new Engine({ repository: repo, cores: 8 });
  await engine.loadAll();
  const servers = await startServers(engine, {
    httpPort: 0,
    grpcPort: 0,
    metricsPort: 0,
    dashboard: { reportsDir: reports },
    ...options,
  });
  return {
    repo,
    engine,
    servers,
    reports,
    http: `http://127.0.0.1:${servers.httpPort}`,
    grpc: `127.0.0.1:${servers.grpcPort}`,
    metrics: `http://127.0.0.1:${servers.metricsPort}/metrics`,
    async close() {
      await servers.close();
      await engine.close();
      await removeDir(repo);
      await removeDir(reports);
    },
  };
}

/**
 * Sends requests from `clients` connections to `model` until stop() (errors, e.g. queue full, are
 * counted), over HTTP to `url`, or over gRPC to `grpc` (host:port) when given. `slowestMs`: the
 * longest a successful request took, as the client timed it.
 */
export function load(url: string, model: string, clients: number, options: { grpc?: string } = {}) {
  const input = classifierInput(1);
  let stopped = false;
  let ok = 0;
  let failed = 0;
  let slowestMs = 0;
  const loops = Array.from({ length: clients }, async () => {
    const c = options.grpc ? new GrpcClient(options.grpc) : new HttpClient(url);
    while (!stopped) {
      try {
        const t0 = performance.now();
        await c.infer(model, { x: input });
        slowestMs = Math.max(slowestMs, performance.now() - t0);
        ok++;
      } catch {
        failed++;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    c.close();
  });
  return {
    counts: () => ({ ok, failed, slowestMs }),
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Reads server-sent events from `url` and hands each (name, parsed data) to `on` until it returns true. */
export async function readEvents(
  url: string,
  on: (event: string, data: unknown) => boolean,
  timeoutMs = 20_000,
  headers: Record<string, string> = {},
): Promise<void> {
  const ac = new AbortController();
  let done = false;
  const timer = setTimeout(
    () => ac.abort(new Error(`no matching event from ${url} within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const res = await fetch(url, { signal: ac.signal, headers });
    if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
    if (!res.headers.get('content-type')?.startsWith('text/event-stream'))
      throw new Error(`${url}: content-type ${res.headers.get('content-type')}`);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length && on(event, JSON.parse(data.join('\n')))) {
          done = true;
          ac.abort();
          return;
        }
        end = buf.indexOf('\n\n');
      }
    }
    throw new Error(`${url}: the stream ended`);
  } catch (err) {
    if (done) return;
    throw ac.signal.aborted ? ac.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}
