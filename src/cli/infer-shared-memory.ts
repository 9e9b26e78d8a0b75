/**
 * `tenancy infer --shared-memory system`: the request's tensors travel through a POSIX
 * shared-memory object instead of the socket, as perf_analyzer's `--shared-memory system` does.
 * One object holds every input and a place of `outputBytes` per output; it is registered as one
 * region for the request, then unregistered and removed.
 */
import {
  SharedMemoryRegion,
  type ClientInferOptions,
  type ClientInferResult,
  type InferenceClient,
  type SharedMemoryInput,
  type SharedMemoryPlace,
} from '../client/index.js';
import type { TensorMap } from '../tensor.js';
import { tensorToRaw } from '../protocol/tensor-wire.js';

/** Every tensor starts on a 64-byte boundary of the object. */
const ALIGN = 64;
const align = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export async function inferViaSharedMemory(
  client: InferenceClient,
  model: string,
  inputs: TensorMap,
  outputNames: string[],
  outputBytes: number,
  options: ClientInferOptions,
): Promise<ClientInferResult> {
  const name = `tenancy-infer-${process.pid}`;
  const raw = Object.entries(inputs).map(([n, t]) => [n, t, tensorToRaw(t)] as const);
  let size = 0;
  const inPlaces: Record<string, SharedMemoryInput> = {};
  for (const [n, t, bytes] of raw) {
    inPlaces[n] = { datatype: t.datatype, shape: t.shape, region: name, byteSize: bytes.byteLength, offset: size };
    size = align(size + bytes.byteLength);
  }
  const outPlaces: Record<string, SharedMemoryPlace> = {};
  for (const n of outputNames) {
    outPlaces[n] = { region: name, byteSize: outputBytes, offset: size };
    size = align(size + outputBytes);
  }
  const region = SharedMemoryRegion.create(`/${name}`, size);
  try {
    for (const [n, , bytes] of raw) region.write(bytes, inPlaces[n].offset);
    await client.registerSystemSharedMemory(name, region.key, size);
    try {
      const r = await client.infer(model, {}, { ...options, sharedMemory: { inputs: inPlaces, outputs: outPlaces } });
      const outputs: TensorMap = { ...r.outputs };
      for (const [n, place] of Object.entries(r.sharedMemoryOutputs ?? {})) outputs[n] = region.readOutput(place);
      return { ...r, outputs };
    } finally {
      await client.unregisterSystemSharedMemory(name);
    }
  } finally {
    region.destroy();
  }
}
