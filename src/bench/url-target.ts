/**
 * A server reached over the network as a benchmark target: any Open Inference Protocol server
 * (tenancy serve, Triton), through the project's client (src/client/) over HTTP (binary tensor
 * data by default, or JSON) or gRPC. Model control needs the server's repository extension in
 * explicit mode. What the protocol does not carry (instances, memory) is left unknown. gRPC's
 * ModelConfig message holds only Triton's fields, not tenancy's (an instance group's host and
 * device, image_input, a queue_policy outside dynamic batching), and a reload by config override
 * needs the config whole, so a gRPC target reads configs from the server's repository on this machine.
 */
import os from 'node:os';
import { GrpcClient, HttpClient, type GrpcInferStream } from '../client/index.js';
import { errors } from '../errors.js';
import type { ModelStatistics } from '../engine/index.js';
import { readModelDefinition } from '../repository/index.js';
import { isDataType, type TensorMap } from '../tensor.js';
import type { Target, TargetInstance, TargetModel } from './target.js';

export interface UrlTargetOptions {
  /** e.g. "http://127.0.0.1:8000" or, for gRPC, "127.0.0.1:8001". */
  url: string;
  protocol: 'http' | 'grpc';
  /** HTTP only: binary tensor data (default) or JSON lists. */
  binary?: boolean;
  /** The server's model repository on this machine, if it is one: configs for gRPC, model hashes. */
  repository?: string;
  /** gRPC only: every request on one ModelStreamInfer stream, as perf_analyzer --streaming. */
  streaming?: boolean;
}

type Client = HttpClient | GrpcClient;

/** How long close() waits for the server to end a stream after its half-close. */
const STREAM_END_WAIT_MS = 5000;

/** gRPC returns 64-bit counters as strings; the statistics extension's JSON has numbers. */
function numbers<T>(v: T): T {
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v) as T;
  if (Array.isArray(v)) return v.map(numbers) as T;
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, k === 'version' || k === 'name' ? x : numbers(x)]),
    ) as T;
  return v;
}

export class UrlTarget implements Target {
  readonly kind: 'http' | 'grpc';
  readonly description: string;
  private readonly client: Client;
  private readonly configs = new Map<string, Record<string, unknown>>();

  private stream: GrpcInferStream | null = null;

  constructor(private readonly options: UrlTargetOptions) {
    if (options.streaming && options.protocol !== 'grpc')
      throw errors.invalidArg(
        `streaming is gRPC's (ModelStreamInfer): the ${options.protocol} target ${options.url} cannot stream`,
      );
    this.kind = options.protocol;
    this.client = options.protocol === 'grpc' ? new GrpcClient(options.url) : new HttpClient(options.url);
    this.description = `${
      options.protocol === 'grpc'
        ? `gRPC${options.streaming ? ' (one ModelStreamInfer stream)' : ''}`
        : `HTTP (${options.binary === false ? 'JSON' : 'binary'} tensors)`
    } ${options.url}`;
  }

  async models(): Promise<string[]> {
    const index = await this.client.repositoryIndex(false);
    return [...new Set(index.map((m) => m.name))].sort();
  }

  async config(model: string): Promise<Record<string, unknown>> {
    let c = this.configs.get(model);
    if (!c) {
      if (this.client instanceof HttpClient) c = await this.client.modelConfig(model);
      else if (this.options.repository)
        c = structuredClone(
          (await readModelDefinition(this.options.repository, model)).versions[0].config,
        ) as unknown as Record<string, unknown>;
      else
        throw errors.invalidArg(
          `the gRPC target ${this.options.url} cannot read model "${model}"'s config whole ` +
            "(gRPC's ModelConfig lacks tenancy's fields): give the server's repository (--repo) or measure over HTTP",
        );
      this.configs.set(model, c);
    }
    return structuredClone(c);
  }

  async load(model: string, config?: Record<string, unknown>): Promise<void> {
    await this.config(model).catch(() => undefined); // remember the original before an override replaces it
    await this.client.load(model, config);
  }

  async unload(model: string): Promise<void> {
    await this.client.unload(model);
  }

  async metadata(model: string): Promise<TargetModel> {
    const [meta, config] = await Promise.all([this.client.modelMetadata(model), this.config(model).catch(() => null)]);
    const shapes = meta.inputs.map((i) => i.shape);
    // The protocol's shapes include the batch dimension (-1) when the model batches.
    const maxBatchSize = config ? Number(config.max_batch_size ?? 0) : shapes.every((s) => s[0] === -1) ? 1 : 0;
    return {
      name: model,
      maxBatchSize,
      inputs: meta.inputs.map((i) => {
        if (!isDataType(i.datatype))
          throw errors.invalidArg(
            `model "${model}" input "${i.name}" has datatype ${JSON.stringify(i.datatype)}, which tenancy cannot send`,
          );
        return { name: i.name, datatype: i.datatype, dims: maxBatchSize > 0 ? i.shape.slice(1) : i.shape };
      }),
    };
  }

  async infer(model: string, inputs: TensorMap): Promise<void> {
    if (this.options.streaming && this.client instanceof GrpcClient) {
      // a stream that broke (a server restart, a network cut) is replaced, not reused
      if (!this.stream || this.stream.failed) this.stream = this.client.stream();
      await this.stream.infer(model, inputs);
      return;
    }
    await this.client.infer(
      model,
      inputs,
      this.client instanceof HttpClient ? { binary: this.options.binary ?? true } : {},
    );
  }

  async statistics(model: string): Promise<ModelStatistics | null> {
    const s = await this.client.statistics(model);
    return (numbers(s.model_stats)[0] as ModelStatistics | undefined) ?? null;
  }

  async instances(): Promise<TargetInstance[]> {
    return [];
  }

  async memory(): Promise<null> {
    return null;
  }

  async modelFile(model: string): Promise<string | null> {
    if (!this.options.repository) return null;
    return (await readModelDefinition(this.options.repository, model).catch(() => null))?.versions[0]?.file ?? null;
  }

  /** The server's cores, assumed to be this machine's (the protocol does not say). */
  cores(): number {
    return os.availableParallelism();
  }

  async close(): Promise<void> {
    if (this.stream && !this.stream.failed) {
      // every request has been answered by now; a server that does not end the stream is cut off
      const stream = this.stream;
      const cutOff = setTimeout(() => stream.cancel(), STREAM_END_WAIT_MS);
      await stream.end();
      clearTimeout(cutOff);
    }
    this.client.close();
  }
}
