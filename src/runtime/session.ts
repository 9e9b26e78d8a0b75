/**
 * What a host needs from a runtime: run named input tensors, get named output tensors. The ONNX
 * Runtime session implements it; a simulated accelerator or another provider slots in behind it.
 */
import type { DataType, TensorMap } from '../tensor.js';

export interface SessionTensorInfo {
  name: string;
  datatype: DataType;
  /** -1 for a dynamic dimension. */
  dims: number[];
}

export interface Session {
  readonly inputs: SessionTensorInfo[];
  readonly outputs: SessionTensorInfo[];
  /** Runs once; `outputs` limits what is computed and returned (all when omitted). */
  run(feeds: TensorMap, outputs?: string[]): Promise<TensorMap>;
  dispose(): Promise<void>;
}

/** Runtime settings of one instance's session. */
export interface SessionOptions {
  /** Threads inside an operator (ONNX Runtime intra-op pool). */
  intraOpThreads: number;
  /** Threads across operators; 1 unless the graph has parallel branches worth it. */
  interOpThreads: number;
  /** Idle runtime threads busy-wait when true: faster alone, wasteful when sharing cores. Default false. */
  spinning: boolean;
  /** Execution providers in order of preference; only 'cpu' is always available. */
  executionProviders: string[];
  /**
   * Instances of the model share one copy of its weights (shared-weights.ts): default true. Only on
   * the CPU; a model whose weights cannot be shared loads a private copy and the instance says why.
   */
  shareWeights?: boolean;
  /**
   * Kernels may repack weights into their own layout at load (ONNX Runtime's prepacking: a private
   * copy per session of, e.g., a Gemm's weights). Default true; false reads the shared weights in place.
   */
  prepacking?: boolean;
  /** The file is already optimized (a shared-weights model): load it without optimizing again. */
  preoptimized?: boolean;
  /** Operators in order, or independent branches at once; default: parallel when interOpThreads > 1. */
  executionMode?: 'sequential' | 'parallel';
  /** ONNX Runtime's CPU memory arena (default on) and memory pattern planning (default on). */
  memArena?: boolean;
  memPattern?: boolean;
}
