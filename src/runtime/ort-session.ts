/**
 * The ONNX Runtime session: the only module that imports onnxruntime-node. Runs inside a host
 * (worker thread or child process), never on the main thread, because session.run() blocks the
 * event loop for the whole inference.
 */
import ort from 'onnxruntime-node';
import { fromOrtType, textOf, toOrtType, type BytesElement, type Tensor, type TensorMap } from '../tensor.js';
import type { Session, SessionOptions, SessionTensorInfo } from './session.js';

export async function createOrtSession(file: string | Uint8Array, options: SessionOptions): Promise<Session> {
  const session = await ort.InferenceSession.create(file as string, ortSessionOptions(options));
  return new OrtSession(session);
}

/**
 * ONNX Runtime's options for tenancy's: threads explicit, spinning off unless asked, and the memory
 * options (arena, memory pattern, prepacking) left at ONNX Runtime's defaults unless turned off; the
 * instances of a shared copy turn some off where that saves memory at no cost (shared-weights.ts
 * leanSessionDefaults). Exported so that tests check what reaches ONNX Runtime.
 */
export function ortSessionOptions(options: SessionOptions): ort.InferenceSession.SessionOptions {
  const spin = options.spinning ? '1' : '0';
  return {
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: options.interOpThreads,
    executionMode: options.executionMode ?? (options.interOpThreads > 1 ? 'parallel' : 'sequential'),
    ...(options.memArena === false ? { enableCpuMemArena: false } : {}),
    ...(options.memPattern === false ? { enableMemPattern: false } : {}),
    // A shared-weights file holds the optimized graph: optimizing again would make private copies of weights.
    graphOptimizationLevel: options.preoptimized ? 'disabled' : 'all',
    executionProviders: options.executionProviders,
    extra: {
      session: {
        intra_op: { allow_spinning: spin },
        inter_op: { allow_spinning: spin },
        ...(options.prepacking === false ? { disable_prepacking: '1' } : {}),
      },
    },
  };
}

/** Name of the weights file beside a shared-weights model (ONNX external data, relative to the model). */
export const SHARED_WEIGHTS_DATA = 'weights.bin';

/**
 * Writes `source` optimized as ONNX Runtime would run it, with every initializer of 1 KiB or more in
 * the external data file SHARED_WEIGHTS_DATA beside `target`. ONNX Runtime memory-maps such data when
 * it loads the model by path, so sessions of the same file (worker threads or processes) read the
 * same page-cache pages instead of each holding a copy.
 */
export async function writeSharedWeightsModel(source: string, target: string): Promise<void> {
  const session = await ort.InferenceSession.create(source, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    optimizedModelFilePath: target,
    // Errors only: saving an optimized graph always warns that it suits this processor (it is written for it).
    logSeverityLevel: 3,
    extra: {
      session: {
        intra_op: { allow_spinning: '0' },
        optimized_model_external_initializers_file_name: SHARED_WEIGHTS_DATA,
        optimized_model_external_initializers_min_size_in_bytes: '1024',
      },
    },
  });
  await session.release();
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[]): SessionTensorInfo[] {
  return meta.map((m) => {
    if (!m.isTensor) return { name: m.name, datatype: 'BYTES', dims: [] };
    const datatype = fromOrtType(m.type) ?? 'BYTES';
    return { name: m.name, datatype, dims: m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : -1)) };
  });
}

class OrtSession implements Session {
  readonly inputs: SessionTensorInfo[];
  readonly outputs: SessionTensorInfo[];
  constructor(private readonly session: ort.InferenceSession) {
    this.inputs = describe(session.inputMetadata);
    this.outputs = describe(session.outputMetadata);
  }

  async run(feeds: TensorMap, outputs?: string[]): Promise<TensorMap> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      // BYTES elements may be raw bytes (from binary data); ONNX Runtime's string tensors take text.
      const data = t.datatype === 'BYTES' ? (t.data as BytesElement[]).map(textOf) : t.data;
      ortFeeds[name] = new ort.Tensor(toOrtType(t.datatype) as 'float32', data as Float32Array, t.shape);
    }
    const result = outputs ? await this.session.run(ortFeeds, outputs) : await this.session.run(ortFeeds);
    const out: TensorMap = {};
    for (const [name, t] of Object.entries(result)) {
      const datatype = fromOrtType(t.type);
      if (!datatype) throw new Error(`output "${name}" has type ${t.type}, which tenancy cannot return`);
      out[name] = { datatype, shape: [...t.dims], data: t.data as Tensor['data'] };
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
