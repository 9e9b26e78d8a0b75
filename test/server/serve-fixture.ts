/** A served classifier repository for the server tests: engine + all three servers on free ports. */
import { Engine } from '../../src/index.js';
import type { Tensor } from '../../src/tensor.js';
import { startServers, type RunningServers, type ServerOptions } from '../../src/server/index.js';
import { classifierRepo, removeDir, TEXT_ORIENTATION } from '../fixtures/repo.js';

export { TEXT_ORIENTATION };
export const OUTPUT = 'softmax_0.tmp_0';

export interface Served {
  repo: string;
  engine: Engine;
  servers: RunningServers;
  /** e.g. http://127.0.0.1:41234 */
  http: string;
  grpc: string;
  metrics: string;
  close(): Promise<void>;
}

export async function serveClassifier(
  options: ServerOptions = {},
  setup: (repo: string) => Promise<void> = async () => {},
  config: Record<string, unknown> = {},
): Promise<Served> {
  const repo = await classifierRepo(config);
  await setup(repo);
  const engine = new Engine({ repository: repo, cores: 2 });
  await engine.loadAll();
  const servers = await startServers(engine, { httpPort: 0, grpcPort: 0, metricsPort: 0, ...options });
  return {
    repo,
    engine,
    servers,
    http: `http://127.0.0.1:${servers.httpPort}`,
    grpc: `127.0.0.1:${servers.grpcPort}`,
    metrics: `http://127.0.0.1:${servers.metricsPort}/metrics`,
    async close() {
      await servers.close();
      await engine.close();
      await removeDir(repo);
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON a server answers
type Json = any;

/** POST JSON (or raw bytes) and return status and parsed body (null when empty). */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const res = await fetch(url, {
    method: 'POST',
    body: raw as string,
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

export async function get(url: string): Promise<{ status: number; body: Json }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The classifier's input as a JSON tensor. */
export function jsonInput(t: Tensor) {
  return { name: 'x', datatype: 'FP32', shape: t.shape, data: Array.from(t.data as Float32Array) };
}
