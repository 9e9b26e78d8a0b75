/**
 * A simulated accelerator's session (e.g. an EdgeTPU, which this machine does not have): an
 * execution takes the device's latency for the model, times the batch size, and spends no CPU
 * (a timer, not a loop). Outputs are zeros of the right shape: a simulated device is for
 * planning and what-if experiments, and is labelled as simulated wherever it appears.
 */
import { elementCount, zeros, type TensorMap } from '../tensor.js';
import type { Session, SessionTensorInfo } from './session.js';

export interface SimulatedModel {
  /** Latency of one execution of batch 1 on the device, ms. */
  latencyMs: number;
  inputs: SessionTensorInfo[];
  /** Output dims without the batch dimension when the model batches. */
  outputs: SessionTensorInfo[];
  batches: boolean;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks this host's thread for `ms`, to a fraction of a millisecond, without spending CPU:
 * setTimeout rounds 2.6 ms down to about 2.1 (measured), which would make the simulated device
 * faster than its table. Atomics.wait sleeps in the kernel; the host runs one execution at a time.
 */
function sleepPrecisely(ms: number): void {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) Atomics.wait(sleeper, 0, 0, left);
}

export function createSimSession(spec: SimulatedModel): Session {
  return {
    inputs: spec.inputs,
    outputs: spec.outputs,
    async run(feeds: TensorMap, wanted?: string[]): Promise<TensorMap> {
      const first = Object.values(feeds)[0];
      const batch = spec.batches && first ? first.shape[0] : 1;
      sleepPrecisely(spec.latencyMs * batch);
      const out: TensorMap = {};
      for (const o of spec.outputs) {
        if (wanted && !wanted.includes(o.name)) continue;
        const shape = [...(spec.batches ? [batch] : []), ...o.dims.map((d) => (d < 0 ? 1 : d))];
        out[o.name] = { datatype: o.datatype, shape, data: zeros(o.datatype, elementCount(shape)) };
      }
      return out;
    },
    async dispose() {},
  };
}
