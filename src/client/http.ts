/**
 * Open Inference Protocol client over HTTP/REST (node:http, keep-alive): JSON tensors, or the binary tensor
 * data extension (default, much cheaper for large tensors), optionally compressed (gzip or
 * deflate, either way). Errors come back as ServerError with the server's status and message.
 */
import http from 'node:http';
import https from 'node:https';
import type { BytesElement, TensorMap } from '../tensor.js';
import { bytesToJson } from './images.js';
import { HEADER_LENGTH } from '../protocol/binary-data.js';
import { compress, decodeBody } from '../protocol/compression.js';
import type { JsonInputTensor } from '../protocol/types.js';
import {
  checkDataType,
  checkShape,
  flatValues,
  tensorFromRaw,
  tensorFromValues,
  tensorToRaw,
  tensorToValues,
} from '../protocol/tensor-wire.js';
import { outputPlace, placeParameters } from './shm-region.js';
import type { SharedMemoryOutput } from './types.js';
import {
  bytesAsText,
  requestedOutputs,
  ServerError,
  type ClientInferOptions,
  type ClientInferResult,
  type InferenceClient,
  type ModelMetadata,
} from './types.js';

/** How an HttpClient reaches its server beyond the URL. */
export interface HttpClientOptions {
  /** Sent with every request, e.g. the key of a restricted API group (--http-restricted-api). */
  headers?: Record<string, string>;
  /** For https:// URLs: CA certificates (PEM) to trust, for a server with a private CA. */
  ca?: string | Buffer;
}

export class HttpClient implements InferenceClient {
  readonly url: string;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;

  /** `url` like "http://127.0.0.1:8000" or "https://box:8000" (a bare "host:port" gets http://). */
  constructor(url: string, options: HttpClientOptions = {}) {
    this.url = (/^https?:\/\//.test(url) ? url : `http://${url}`).replace(/\/+$/, '');
    this.agent = this.url.startsWith('https:')
      ? new https.Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) })
      : new http.Agent({ keepAlive: true });
    this.headers = options.headers ?? {};
  }

  private modelPath(model: string, version?: number): string {
    return `/v2/models/${encodeURIComponent(model)}${version !== undefined ? `/versions/${version}` : ''}`;
  }

  private async request(
    method: string,
    path: string,
    body?: string | Buffer | Buffer[],
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const res = await send(this.agent, this.url + path, method, body, { ...this.headers, ...headers });
    try {
      res.body = await decodeBody(res.body, res.headers['content-encoding']);
    } catch (err) {
      if (res.status < 400) throw err;
      // an error body we cannot inflate still reports the status; its text is shown as it came
    }
    if (res.status >= 400) {
      const text = res.body.toString('utf8');
      let message = text || `HTTP ${res.status}`;
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new ServerError(res.status, message);
    }
    return res;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      body === undefined ? {} : { 'content-type': 'application/json' },
    );
    return (res.body.length ? JSON.parse(res.body.toString('utf8')) : {}) as T;
  }

  private async ok(path: string): Promise<boolean> {
    return (await send(this.agent, this.url + path, 'GET')).status === 200;
  }

  live = () => this.ok('/v2/health/live');
  ready = () => this.ok('/v2/health/ready');
  modelReady = (model: string, version?: number) => this.ok(`${this.modelPath(model, version)}/ready`);
  serverMetadata = () => this.json<{ name: string; version: string; extensions: string[] }>('GET', '/v2');
  modelMetadata = (model: string, version?: number) => this.json<ModelMetadata>('GET', this.modelPath(model, version));
  modelConfig = (model: string, version?: number) =>
    this.json<Record<string, unknown>>('GET', `${this.modelPath(model, version)}/config`);
  statistics = (model?: string, version?: number) =>
    this.json<{ model_stats: unknown[] }>(
      'GET',
      model ? `${this.modelPath(model, version)}/stats` : '/v2/models/stats',
    );
  repositoryIndex = (ready = false) =>
    this.json<{ name: string; version?: string; state?: string; reason?: string }[]>('POST', '/v2/repository/index', {
      ready,
    });
  /**
   * Loads or reloads a model; `config` replaces its config.json for this load, and `files`
   * (path inside the model's folder → bytes, e.g. {"1/model.onnx": bytes}) send the model itself,
   * as tritonclient's load_model(config=..., files=...) does. Files need a config.
   */
  load = (model: string, config?: unknown, files: Record<string, Uint8Array> = {}) =>
    this.json<void>('POST', `/v2/repository/models/${encodeURIComponent(model)}/load`, {
      parameters: {
        ...(config === undefined ? {} : { config: JSON.stringify(config) }),
        ...Object.fromEntries(
          Object.entries(files).map(([f, b]) => [
            `file:${f}`,
            Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'),
          ]),
        ),
      },
    });
  unload = (model: string) => this.json<void>('POST', `/v2/repository/models/${encodeURIComponent(model)}/unload`, {});

  registerSystemSharedMemory = (name: string, key: string, byteSize: number, offset = 0) =>
    this.json<void>('POST', `/v2/systemsharedmemory/region/${encodeURIComponent(name)}/register`, {
      key,
      offset,
      byte_size: byteSize,
    });
  unregisterSystemSharedMemory = (name?: string) =>
    this.json<void>(
      'POST',
      name
        ? `/v2/systemsharedmemory/region/${encodeURIComponent(name)}/unregister`
        : '/v2/systemsharedmemory/unregister',
    );
  systemSharedMemoryStatus = (name?: string) =>
    this.json<{ name: string; key: string; offset: number; byte_size: number }[]>(
      'GET',
      name ? `/v2/systemsharedmemory/region/${encodeURIComponent(name)}/status` : '/v2/systemsharedmemory/status',
    );

  async infer(model: string, inputs: TensorMap, options: ClientInferOptions = {}): Promise<ClientInferResult> {
    const binary = options.binary ?? true;
    const chunks: Buffer[] = [];
    const wireInputs: JsonInputTensor[] = Object.entries(inputs).map(([name, t]) => {
      const base = { name, datatype: t.datatype, shape: t.shape };
      if (!binary || (t.datatype === 'BYTES' && t.data.length === 0))
        return { ...base, data: t.datatype === 'BYTES' ? bytesToJson(t.data as BytesElement[]) : tensorToValues(t) };
      const raw = tensorToRaw(t);
      chunks.push(raw);
      return { ...base, parameters: { binary_data_size: raw.length } };
    });
    for (const [name, s] of Object.entries(options.sharedMemory?.inputs ?? {}))
      wireInputs.push({ name, datatype: s.datatype, shape: s.shape, parameters: placeParameters(s) });
    const outParams = {
      ...(binary ? { binary_data: true } : {}),
      ...(options.classification ? { classification: options.classification } : {}),
    };
    const wanted = requestedOutputs(options);
    const shmOut = options.sharedMemory?.outputs ?? {};
    const parameters = {
      ...(options.timeoutUs !== undefined ? { timeout: options.timeoutUs } : {}),
      ...(binary && !wanted ? { binary_data_output: true } : {}),
      ...(!wanted && options.classification ? { classification: options.classification } : {}),
    };
    const header = Buffer.from(
      JSON.stringify({
        ...(options.id !== undefined ? { id: options.id } : {}),
        ...(Object.keys(parameters).length ? { parameters } : {}),
        inputs: wireInputs,
        ...(wanted
          ? {
              outputs: wanted.map((name) => ({
                name,
                parameters: { ...outParams, ...(shmOut[name] ? placeParameters(shmOut[name]) : {}) },
              })),
            }
          : {}),
      }),
    );
    const headers: Record<string, string> = chunks.length
      ? { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(header.length) }
      : { 'content-type': 'application/json' };
    let body = [header, ...chunks];
    if (options.requestCompression) {
      body = [await compress(options.requestCompression, Buffer.concat(body))];
      headers['content-encoding'] = options.requestCompression;
    }
    if (options.responseCompression) headers['accept-encoding'] = options.responseCompression;
    const res = await this.request('POST', `${this.modelPath(model, options.version)}/infer`, body, headers);
    const n = res.headers[HEADER_LENGTH];
    return decodeReply(res.body, typeof n === 'string' ? n : null);
  }

  close(): void {
    this.agent.destroy();
  }
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request over node:http with a keep-alive agent (cheaper per request than fetch for large bodies). */
function send(
  agent: http.Agent,
  url: string,
  method: string,
  body?: string | Buffer | Buffer[],
  headers: Record<string, string> = {},
): Promise<Reply> {
  const parts = body === undefined ? [] : Array.isArray(body) ? body : [Buffer.from(body)];
  const length = parts.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? https : http).request(
      url,
      { method, agent, headers: { ...headers, 'content-length': String(length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // One writev for the head and every part: separate writes would wake the server once for the
    // head and again for the tensor.
    req.cork();
    for (const p of parts) req.write(p);
    req.end();
    req.uncork();
  });
}

interface WireOutput {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number; shared_memory_region?: string };
}

function decodeReply(body: Buffer, headerLength: string | null): ClientInferResult {
  const n = headerLength === null ? body.length : Number(headerLength);
  const json = JSON.parse(body.subarray(0, n).toString('utf8')) as Omit<ClientInferResult, 'outputs'> & {
    outputs: WireOutput[];
  };
  let offset = n;
  const outputs: TensorMap = {};
  const shared: Record<string, SharedMemoryOutput> = {};
  for (const o of json.outputs) {
    const dt = checkDataType(o.datatype, `output "${o.name}"`);
    const shape = checkShape(o.shape, `output "${o.name}"`);
    const size = o.parameters?.binary_data_size;
    const place = outputPlace(dt, shape, o.parameters);
    if (place) shared[o.name] = place;
    else if (size !== undefined) {
      const t = tensorFromRaw(dt, shape, body.subarray(offset, offset + size), `output "${o.name}"`);
      outputs[o.name] = bytesAsText(t);
      offset += size;
    } else {
      outputs[o.name] = tensorFromValues(dt, shape, flatValues(o.data ?? []), `output "${o.name}"`);
    }
  }
  return {
    model_name: json.model_name,
    model_version: json.model_version,
    ...(json.id !== undefined ? { id: json.id } : {}),
    outputs,
    ...(Object.keys(shared).length ? { sharedMemoryOutputs: shared } : {}),
  };
}
