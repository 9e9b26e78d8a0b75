/**
 * Open Inference Protocol client over gRPC (grpc-js, the same .proto as the server): inputs go as
 * raw_input_contents, outputs come back as raw_output_contents.
 */
import * as grpc from '@grpc/grpc-js';
import { textOf, type BytesElement, type TensorMap } from '../tensor.js';
import { loadInferenceService } from '../server/grpc/proto.js';
import { checkDataType, tensorFromRaw, tensorToRaw } from '../server/oip/tensor-wire.js';
import { ServerError, type ClientInferOptions, type ClientInferResult, type InferenceClient, type ModelMetadata } from './types.js';

type Unary = (req: unknown, cb: (err: grpc.ServiceError | null, res: any) => void) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

export class GrpcClient implements InferenceClient {
  private readonly client: grpc.Client & Record<string, Unary>;

  /** `address` like "127.0.0.1:8001". */
  constructor(address: string) {
    const Service = loadInferenceService();
    this.client = new Service(address.replace(/^grpc:\/\//, ''), grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    }) as grpc.Client & Record<string, Unary>;
  }

  call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) =>
      this.client[method](req, (err, res) => (err ? reject(new ServerError(err.code, err.details)) : resolve(res as T))),
    );
  }

  live = async () => (await this.call<{ live: boolean }>('ServerLive', {})).live;
  ready = async () => (await this.call<{ ready: boolean }>('ServerReady', {})).ready;
  modelReady = async (model: string, version?: number) => (await this.call<{ ready: boolean }>('ModelReady', { name: model, version: version ? String(version) : '' })).ready;
  serverMetadata = () => this.call<{ name: string; version: string; extensions: string[] }>('ServerMetadata', {});

  async modelMetadata(model: string, version?: number): Promise<ModelMetadata> {
    const m = await this.call<ModelMetadata>('ModelMetadata', { name: model, version: version ? String(version) : '' });
    const shapes = (ts: ModelMetadata['inputs']) => ts.map((t) => ({ ...t, shape: t.shape.map(Number) }));
    return { ...m, inputs: shapes(m.inputs), outputs: shapes(m.outputs) };
  }

  statistics = (model?: string, version?: number) => this.call<{ model_stats: unknown[] }>('ModelStatistics', { name: model ?? '', version: version ? String(version) : '' });
  repositoryIndex = async (ready = false) => (await this.call<{ models: { name: string; version: string; state: string; reason: string }[] }>('RepositoryIndex', { ready })).models;
  load = (model: string, config?: unknown) =>
    this.call<void>('RepositoryModelLoad', { model_name: model, parameters: config === undefined ? {} : { config: { string_param: JSON.stringify(config) } } });
  unload = (model: string) => this.call<void>('RepositoryModelUnload', { model_name: model });

  async infer(model: string, inputs: TensorMap, options: ClientInferOptions = {}): Promise<ClientInferResult> {
    const entries = Object.entries(inputs);
    const classification = options.classification ? { classification: { int64_param: options.classification } } : {};
    const res = await this.call<{ model_name: string; model_version: string; id: string; outputs: { name: string; datatype: string; shape: string[] }[]; raw_output_contents: Buffer[] }>('ModelInfer', {
      model_name: model,
      model_version: options.version !== undefined ? String(options.version) : '',
      id: options.id ?? '',
      parameters: { ...(options.timeoutUs !== undefined ? { timeout: { int64_param: options.timeoutUs } } : {}), ...(options.outputs ? {} : classification) },
      inputs: entries.map(([name, t]) => ({ name, datatype: t.datatype, shape: t.shape })),
      outputs: (options.outputs ?? []).map((name) => ({ name, parameters: classification })),
      raw_input_contents: entries.map(([, t]) => tensorToRaw(t)),
    });
    const outputs: TensorMap = {};
    res.outputs.forEach((o, i) => {
      const what = `output "${o.name}"`;
      const t = tensorFromRaw(checkDataType(o.datatype, what), o.shape.map(Number), res.raw_output_contents[i], what);
      // BYTES outputs (classification results, text) are given to the caller as strings.
      outputs[o.name] = t.datatype === 'BYTES' ? { ...t, data: (t.data as BytesElement[]).map(textOf) } : t;
    });
    return { model_name: res.model_name, model_version: res.model_version, ...(res.id ? { id: res.id } : {}), outputs };
  }

  close(): void {
    this.client.close();
  }
}
