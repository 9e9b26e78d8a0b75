/**
 * Open Inference Protocol client over gRPC (grpc-js, the same .proto as the server): inputs go as
 * raw_input_contents, outputs come back as raw_output_contents.
 */
import * as grpc from '@grpc/grpc-js';
import type { TensorMap } from '../tensor.js';
import { loadInferenceService } from '../protocol/grpc-proto.js';
import { checkDataType, tensorFromRaw, tensorToRaw } from '../protocol/tensor-wire.js';
import { grpcParameters, plainParameters, type GrpcParam } from '../protocol/grpc-parameters.js';
import { inferRequestEncoder, type InferRequestEncoder } from './grpc-infer-request.js';
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

/** How a GrpcClient reaches its server beyond the address. */
export interface GrpcClientOptions {
  /** TLS (a server started with --grpc-use-ssl); `true` trusts the system's CAs. */
  ssl?: true | { rootCert?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /**
   * Metadata sent with every call. A restricted group's key goes as Triton's clients send it:
   * `{ 'triton-grpc-protocol-<key>': value }`.
   */
  metadata?: Record<string, string>;
}

function channelCredentials(ssl: GrpcClientOptions['ssl']): grpc.ChannelCredentials {
  if (!ssl) return grpc.credentials.createInsecure();
  if (ssl === true) return grpc.credentials.createSsl();
  const buf = (v?: string | Buffer) => (v === undefined ? null : Buffer.from(v));
  return grpc.credentials.createSsl(buf(ssl.rootCert), buf(ssl.key), buf(ssl.cert));
}

/** An interceptor that adds `entries` to the metadata of every call. */
function withMetadata(entries: Record<string, string>): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        for (const [k, v] of Object.entries(entries)) metadata.set(k, v);
        next(metadata, listener);
      },
    });
}

// biome-ignore lint/suspicious/noExplicitAny: grpc-js's generated client methods are untyped
type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: any) => void) => void;

export class GrpcClient implements InferenceClient {
  private readonly client: grpc.Client & Record<string, Unary>;
  private readonly inferMethod: grpc.MethodDefinition<unknown, unknown>;
  private readonly streamMethod: grpc.MethodDefinition<unknown, unknown>;
  private readonly inferRequests: InferRequestEncoder;

  /** `address` like "127.0.0.1:8001". */
  constructor(address: string, options: GrpcClientOptions = {}) {
    const Service = loadInferenceService();
    this.client = new Service(address.replace(/^grpc:\/\//, ''), channelCredentials(options.ssl), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      ...(options.metadata ? { interceptors: [withMetadata(options.metadata)] } : {}),
    }) as grpc.Client & Record<string, Unary>;
    this.inferMethod = Service.service.ModelInfer;
    this.streamMethod = Service.service.ModelStreamInfer;
    this.inferRequests = inferRequestEncoder(this.inferMethod.requestSerialize as (m: unknown) => Buffer);
  }

  /** ModelInfer with the tensor bytes appended to a reused buffer (grpc-infer-request.ts says why). */
  private modelInfer<T>(message: Record<string, unknown>, raw: Uint8Array[]): Promise<T> {
    const m = this.inferMethod;
    const encoded = this.inferRequests.encode(message, raw);
    return new Promise<T>((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        (b: Buffer) => b,
        m.responseDeserialize,
        encoded,
        (err, res) => {
          this.inferRequests.release(encoded);
          if (err) reject(new ServerError(err.code, err.details));
          else resolve(res as T);
        },
      );
    });
  }

  call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) =>
      this.client[method](req, (err, res) =>
        err ? reject(new ServerError(err.code, err.details)) : resolve(res as T),
      ),
    );
  }

  live = async () => (await this.call<{ live: boolean }>('ServerLive', {})).live;
  ready = async () => (await this.call<{ ready: boolean }>('ServerReady', {})).ready;
  modelReady = async (model: string, version?: number) =>
    (await this.call<{ ready: boolean }>('ModelReady', { name: model, version: version ? String(version) : '' })).ready;
  serverMetadata = () => this.call<{ name: string; version: string; extensions: string[] }>('ServerMetadata', {});

  async modelMetadata(model: string, version?: number): Promise<ModelMetadata> {
    const m = await this.call<ModelMetadata>('ModelMetadata', { name: model, version: version ? String(version) : '' });
    const shapes = (ts: ModelMetadata['inputs']) => ts.map((t) => ({ ...t, shape: t.shape.map(Number) }));
    return { ...m, inputs: shapes(m.inputs), outputs: shapes(m.outputs) };
  }

  /**
   * The model's configuration as Triton's ModelConfig message holds it (the part tenancy fills),
   * 64-bit fields as numbers.
   */
  modelConfig = async (model: string, version?: number) =>
    numericConfig(
      (
        await this.call<{ config: GrpcModelConfig }>('ModelConfig', {
          name: model,
          version: version ? String(version) : '',
        })
      ).config,
    );
  statistics = (model?: string, version?: number) =>
    this.call<{ model_stats: unknown[] }>('ModelStatistics', {
      name: model ?? '',
      version: version ? String(version) : '',
    });
  repositoryIndex = async (ready = false) =>
    (
      await this.call<{ models: { name: string; version: string; state: string; reason: string }[] }>(
        'RepositoryIndex',
        { ready },
      )
    ).models;
  /** As HttpClient.load: `files` go as bytes_param `file:<path>` parameters. */
  load = (model: string, config?: unknown, files: Record<string, Uint8Array> = {}) =>
    this.call<void>('RepositoryModelLoad', {
      model_name: model,
      parameters: {
        ...(config === undefined ? {} : { config: { string_param: JSON.stringify(config) } }),
        ...Object.fromEntries(
          Object.entries(files).map(([f, b]) => [
            `file:${f}`,
            { bytes_param: Buffer.from(b.buffer, b.byteOffset, b.byteLength) },
          ]),
        ),
      },
    });
  unload = (model: string) => this.call<void>('RepositoryModelUnload', { model_name: model });

  registerSystemSharedMemory = (name: string, key: string, byteSize: number, offset = 0) =>
    this.call<void>('SystemSharedMemoryRegister', { name, key, offset, byte_size: byteSize });
  unregisterSystemSharedMemory = (name?: string) =>
    this.call<void>('SystemSharedMemoryUnregister', { name: name ?? '' });
  async systemSharedMemoryStatus(name?: string) {
    const r = await this.call<{
      regions: Record<string, { name: string; key: string; offset: string; byte_size: string }>;
    }>('SystemSharedMemoryStatus', { name: name ?? '' });
    return Object.values(r.regions).map((s) => ({ ...s, offset: Number(s.offset), byte_size: Number(s.byte_size) }));
  }

  async infer(model: string, inputs: TensorMap, options: ClientInferOptions = {}): Promise<ClientInferResult> {
    const { message, raw } = inferRequest(model, inputs, options);
    return inferResult(await this.modelInfer<WireInferResponse>(message, raw));
  }

  /**
   * A ModelStreamInfer stream (Triton's streaming inference): every infer() on it is one message
   * on one open call, answered as it finishes. Cheaper per request than unary calls; see
   * src/server/grpc/stream-infer.ts.
   */
  stream(): GrpcInferStream {
    const m = this.streamMethod;
    return new GrpcInferStream(
      this.client.makeBidiStreamRequest(
        m.path,
        (b: Buffer) => b,
        m.responseDeserialize as (b: Buffer) => WireStreamAnswer,
      ),
      this.inferRequests,
    );
  }

  close(): void {
    this.client.close();
  }
}

interface WireInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: string[]; parameters: Record<string, GrpcParam> }[];
  raw_output_contents: Buffer[];
}

interface WireStreamAnswer {
  error_message: string;
  infer_response: WireInferResponse | null;
}

/** A ModelInferRequest's small fields, and its raw_input_contents (one per input outside shared memory, in order). */
function inferRequest(
  model: string,
  inputs: TensorMap,
  options: ClientInferOptions,
): { message: Record<string, unknown>; raw: Uint8Array[] } {
  const entries = Object.entries(inputs);
  const classification = options.classification ? { classification: { int64_param: options.classification } } : {};
  const wanted = requestedOutputs(options);
  const shmIn = Object.entries(options.sharedMemory?.inputs ?? {});
  const shmOut = options.sharedMemory?.outputs ?? {};
  const message = {
    model_name: model,
    model_version: options.version !== undefined ? String(options.version) : '',
    id: options.id ?? '',
    parameters: {
      ...(options.timeoutUs !== undefined ? { timeout: { int64_param: options.timeoutUs } } : {}),
      ...(wanted ? {} : classification),
    },
    inputs: [
      ...entries.map(([name, t]) => ({ name, datatype: t.datatype, shape: t.shape })),
      ...shmIn.map(([name, s]) => ({
        name,
        datatype: s.datatype,
        shape: s.shape,
        parameters: grpcParameters(placeParameters(s)),
      })),
    ],
    outputs: (wanted ?? []).map((name) => ({
      name,
      parameters: { ...classification, ...(shmOut[name] ? grpcParameters(placeParameters(shmOut[name])) : {}) },
    })),
  };
  return { message, raw: entries.map(([, t]) => tensorToRaw(t)) };
}

function inferResult(res: WireInferResponse): ClientInferResult {
  const outputs: TensorMap = {};
  const shared: Record<string, SharedMemoryOutput> = {};
  res.outputs.forEach((o, i) => {
    const what = `output "${o.name}"`;
    const shape = o.shape.map(Number);
    const place = outputPlace(o.datatype, shape, plainParameters(o.parameters));
    if (place) {
      shared[o.name] = place;
      return;
    }
    const t = tensorFromRaw(checkDataType(o.datatype, what), shape, res.raw_output_contents[i], what);
    outputs[o.name] = bytesAsText(t);
  });
  return {
    model_name: res.model_name,
    model_version: res.model_version,
    ...(res.id ? { id: res.id } : {}),
    outputs,
    ...(Object.keys(shared).length ? { sharedMemoryOutputs: shared } : {}),
  };
}

/** gRPC's UNKNOWN: a stream answer's error carries a message, not a status. */
const STREAM_ERROR_CODE = 2;

/**
 * Requests on one ModelStreamInfer call. Answers come as requests finish, in any order, and are
 * matched by id: a request without one gets a stream-local id (left out of its result). end()
 * half-closes the stream and waits for the answers still due.
 */
export class GrpcInferStream {
  private readonly pending = new Map<
    string,
    { resolve(r: ClientInferResult): void; reject(e: Error): void; ownId: boolean }
  >();
  private nextId = 0;
  private failure: Error | null = null;
  private closing = false;
  private readonly ended: Promise<void>;

  constructor(
    private readonly call: grpc.ClientDuplexStream<Buffer, WireStreamAnswer>,
    private readonly encoder: InferRequestEncoder,
  ) {
    call.on('data', (a: WireStreamAnswer) => this.settle(a));
    this.ended = new Promise((resolve) => {
      call.on('error', (err: grpc.ServiceError) => {
        // a gRPC status has a numeric code; a local stream error (a Node code string) is UNKNOWN
        this.fail(
          new ServerError(typeof err.code === 'number' ? err.code : STREAM_ERROR_CODE, err.details ?? err.message),
        );
        resolve();
      });
      call.on('end', () => {
        this.fail(new ServerError(STREAM_ERROR_CODE, 'the stream ended before this request was answered'));
        resolve();
      });
    });
  }

  /** Whether the stream has ended or broken: every infer() on it now fails. */
  get failed(): boolean {
    return this.failure !== null;
  }

  infer(model: string, inputs: TensorMap, options: ClientInferOptions = {}): Promise<ClientInferResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing)
      return Promise.reject(
        new Error('the stream is closing (end() was called): open a new one with GrpcClient.stream()'),
      );
    const ownId = options.id === undefined || options.id === '';
    const id = ownId ? `tenancy-stream-${this.nextId++}` : options.id!;
    if (this.pending.has(id))
      return Promise.reject(
        new Error(
          `request id ${JSON.stringify(id)} is already waiting for its answer on this stream: ` +
            'ids must be unique among requests in flight',
        ),
      );
    const { message, raw } = inferRequest(model, inputs, { ...options, id });
    const encoded = this.encoder.encode(message, raw);
    return new Promise<ClientInferResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ownId });
      // grpc-js has framed the message once the write calls back: the buffer can be reused.
      this.call.write(encoded, () => this.encoder.release(encoded));
    });
  }

  /** Half-closes the stream; resolves when the server has ended it (every answer in). */
  async end(): Promise<void> {
    this.closing = true;
    this.call.end();
    await this.ended;
  }

  /** Cancels the stream: the server drops what it has in flight, pending requests fail. */
  cancel(): void {
    this.call.cancel();
  }

  private settle(a: WireStreamAnswer): void {
    const id = a.infer_response?.id ?? '';
    const p = this.pending.get(id);
    if (!p) return; // an answer to nothing we wait for: a server bug, nothing to settle
    this.pending.delete(id);
    if (a.error_message) return p.reject(new ServerError(STREAM_ERROR_CODE, a.error_message));
    let result: ClientInferResult;
    try {
      result = inferResult(a.infer_response!);
    } catch (err) {
      return p.reject(err as Error); // an answer this client cannot read (a datatype it does not know)
    }
    if (p.ownId) delete result.id;
    p.resolve(result);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

type Int64 = string | number;
interface GrpcQueuePolicy {
  default_timeout_microseconds: Int64;
  [k: string]: unknown;
}
interface GrpcModelConfig {
  input: { dims: Int64[] }[];
  output: { dims: Int64[] }[];
  version_policy: { specific?: { versions: Int64[] }; policy_choice?: string };
  scheduling_choice?: string;
  model_warmup?: { name: string; batch_size: number; count: number; inputs: Record<string, GrpcWarmupInput> }[];
  dynamic_batching?: {
    max_queue_delay_microseconds: Int64;
    priority_levels: Int64;
    default_priority_level: Int64;
    default_queue_policy: GrpcQueuePolicy | null;
    priority_queue_policy: Record<string, GrpcQueuePolicy>;
  };
  [k: string]: unknown;
}

interface GrpcWarmupInput {
  data_type: string;
  dims: Int64[];
  input_data_type?: string;
  zero_data?: boolean;
  random_data?: boolean;
  input_data_file?: string;
}

/**
 * The config as the HTTP JSON has it: int64/uint64 fields (strings from grpc-js) as numbers, the
 * priority levels keying priority_queue_policy as decimal strings (protobufjs keys a uint64 map by
 * the 8 little-endian bytes of the key), and without protobufjs's oneof markers.
 */
function numericConfig({ scheduling_choice: _s, ...c }: GrpcModelConfig): Record<string, unknown> {
  const dims = <T extends { dims: Int64[]; reshape?: { shape: Int64[] } | null }>({ reshape, ...t }: T) => ({
    ...t,
    dims: t.dims.map(Number),
    ...(reshape ? { reshape: { shape: reshape.shape.map(Number) } } : {}),
  });
  // A warm-up input without protobufjs's oneof marker, and without the zero_data the message needs.
  const warmupInput = ({ input_data_type: _o, zero_data: _z, dims: d, ...i }: GrpcWarmupInput) => ({
    ...i,
    dims: d.map(Number),
  });
  const policy = (p: GrpcQueuePolicy) => ({
    ...p,
    default_timeout_microseconds: Number(p.default_timeout_microseconds),
  });
  const level = (k: string) =>
    /^\d+$/.test(k) ? k : String([...k].reduceRight((n, ch) => n * 256n + BigInt(ch.charCodeAt(0)), 0n));
  const d = c.dynamic_batching;
  const { policy_choice: _v, ...versionPolicy } = c.version_policy;
  return {
    ...c,
    input: c.input.map(dims),
    output: c.output.map(dims),
    model_warmup: (c.model_warmup ?? []).map((w) => ({
      ...w,
      inputs: Object.fromEntries(Object.entries(w.inputs).map(([k, i]) => [k, warmupInput(i)])),
    })),
    version_policy: versionPolicy.specific
      ? { specific: { versions: versionPolicy.specific.versions.map(Number) } }
      : versionPolicy,
    ...(d
      ? {
          dynamic_batching: {
            ...d,
            max_queue_delay_microseconds: Number(d.max_queue_delay_microseconds),
            priority_levels: Number(d.priority_levels),
            default_priority_level: Number(d.default_priority_level),
            default_queue_policy: d.default_queue_policy && policy(d.default_queue_policy),
            priority_queue_policy: Object.fromEntries(
              Object.entries(d.priority_queue_policy).map(([k, p]) => [level(k), policy(p)]),
            ),
          },
        }
      : {}),
  };
}
