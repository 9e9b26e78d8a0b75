/** Test helper: run a zoo model in onnxruntime-node on a calm, single-threaded session. */
import ort from 'onnxruntime-node';

const SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

/** Deterministic pseudo-random input in [-1, 1), shaped [batch, 3, size, size]. */
export function randomInput(batch: number, size: number, seed = 7): Float32Array {
  const data = new Float32Array(batch * 3 * size * size);
  let state = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = (state / 2 ** 32) * 2 - 1;
  }
  return data;
}

export interface ModelRun {
  dims: readonly number[];
  logits: Float32Array;
  inputNames: readonly string[];
  outputNames: readonly string[];
}

/** Loads the model, runs one batch through `input`, returns `logits`. */
export async function runModel(bytes: Uint8Array, batch: number, size: number): Promise<ModelRun> {
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  try {
    const input = new ort.Tensor('float32', randomInput(batch, size), [batch, 3, size, size]);
    const { logits } = await session.run({ input });
    if (!logits) throw new Error('model has no logits output');
    return {
      dims: logits.dims,
      logits: logits.data as Float32Array,
      inputNames: session.inputNames,
      outputNames: session.outputNames,
    };
  } finally {
    await session.release();
  }
}
