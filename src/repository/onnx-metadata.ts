/**
 * Reads a model's inputs, outputs and opsets straight from the .onnx file, without creating a
 * runtime session and without reading the weights: the protobuf is walked field by field with
 * small positional reads, the weights skipped by their lengths, and only the graph's input/output
 * descriptions (and initializer names) decoded. A 100 MB ResNet-50 file costs a few hundred KB of
 * reads, not a 100 MB buffer the server would hold until its next full garbage collection.
 */
import { open } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { fromOnnxElemType, type DataType } from '../tensor.js';

const { onnx } = onnxProto;

export interface OnnxTensorInfo {
  name: string;
  datatype: DataType;
  /** Dimensions; -1 for a dynamic (symbolic or unknown) dimension. */
  dims: number[];
  /** Names of the symbolic dimensions, index-aligned with dims ('' where fixed). */
  dimNames: string[];
}

export interface OnnxMetadata {
  irVersion: number;
  opsets: Record<string, number>;
  producer: string;
  inputs: OnnxTensorInfo[];
  outputs: OnnxTensorInfo[];
}

// Field numbers from onnx.proto.
const MODEL = { irVersion: 1, producerName: 2, graph: 7, opsetImport: 8 };
const GRAPH = { initializer: 5, input: 11, output: 12 };
const TENSOR_NAME = 8;
const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 };

/** Bytes read at a time: enough for a field's header and small fields, little when a weight is skipped. */
const WINDOW = 8 * 1024;

/** Positional reads of a file or a buffer through one small window. */
class Source {
  private window: Uint8Array = new Uint8Array(0);
  private windowAt = 0;

  constructor(
    readonly size: number,
    private readonly readAt: (pos: number, length: number) => Promise<Uint8Array>,
  ) {}

  async bytes(pos: number, length: number): Promise<Uint8Array> {
    if (pos < 0 || pos + length > this.size) throw new Error(`a field at byte ${pos} runs past the end of the file`);
    const inWindow = pos >= this.windowAt && pos + length <= this.windowAt + this.window.length;
    if (inWindow) return this.window.subarray(pos - this.windowAt, pos - this.windowAt + length);
    if (length > WINDOW) return this.readAt(pos, length);
    this.windowAt = pos;
    this.window = await this.readAt(pos, Math.min(WINDOW, this.size - pos));
    return this.window.subarray(0, length);
  }

  /** A varint at `pos`: its value (exact below 2^53, which every length and number here is) and the next position. */
  async varint(pos: number): Promise<[number, number]> {
    const b = await this.bytes(pos, Math.min(10, this.size - pos));
    let value = 0;
    for (let i = 0, scale = 1; i < b.length; i++, scale *= 128) {
      value += (b[i] & 0x7f) * scale;
      if ((b[i] & 0x80) === 0) return [value, pos + i + 1];
    }
    throw new Error(`a varint at byte ${pos} does not end`);
  }
}

/** One field of a message: its number, wire type, and where its value starts and ends. */
interface Field {
  field: number;
  wire: number;
  /** The varint's value (wire type 0). */
  value: number;
  start: number;
  end: number;
}

/** Walks the fields of the message in [start, end), calling `visit` on each. */
async function walk(src: Source, start: number, end: number, visit: (f: Field) => Promise<void>): Promise<void> {
  let pos = start;
  while (pos < end) {
    const [tag, at] = await src.varint(pos);
    const f: Field = { field: Math.floor(tag / 8), wire: tag % 8, value: 0, start: at, end: at };
    if (f.wire === WIRE.varint) [f.value, f.end] = await src.varint(at);
    else if (f.wire === WIRE.fixed64) f.end = at + 8;
    else if (f.wire === WIRE.fixed32) f.end = at + 4;
    else if (f.wire === WIRE.bytes) {
      const [length, from] = await src.varint(at);
      [f.start, f.end] = [from, from + length];
    } else throw new Error(`wire type ${f.wire} at byte ${pos} is not used by ONNX`);
    if (f.end > end) throw new Error(`field ${f.field} at byte ${pos} runs past the end of its message`);
    await visit(f);
    pos = f.end;
  }
}

/** Reads the metadata of an .onnx file; `read.bytes` counts what was read from it. */
export async function readOnnxMetadata(file: string, read = { bytes: 0 }): Promise<OnnxMetadata> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    return await parse(
      new Source(size, async (pos, length) => {
        const buf = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buf, 0, length, pos);
        read.bytes += bytesRead;
        return buf.subarray(0, bytesRead);
      }),
      file,
    );
  } finally {
    await handle.close();
  }
}

export function parseOnnxMetadata(bytes: Uint8Array, file = 'model.onnx'): Promise<OnnxMetadata> {
  return parse(new Source(bytes.length, async (pos, length) => bytes.subarray(pos, pos + length)), file);
}

async function parse(src: Source, file: string): Promise<OnnxMetadata> {
  try {
    return await walkModel(src);
  } catch (err) {
    throw new Error(`${file} is not a valid ONNX model: ${(err as Error).message}`);
  }
}

async function walkModel(src: Source): Promise<OnnxMetadata> {
  const meta: OnnxMetadata = { irVersion: 0, opsets: {}, producer: '', inputs: [], outputs: [] };
  let sawGraph = false;
  const text = async (f: Field) => Buffer.from(await src.bytes(f.start, f.end - f.start)).toString('utf8');
  await walk(src, 0, src.size, async (f) => {
    if (f.field === MODEL.irVersion && f.wire === WIRE.varint) meta.irVersion = f.value;
    else if (f.field === MODEL.producerName && f.wire === WIRE.bytes) meta.producer = await text(f);
    else if (f.field === MODEL.opsetImport && f.wire === WIRE.bytes) {
      const op = onnx.OperatorSetIdProto.decode(await src.bytes(f.start, f.end - f.start));
      meta.opsets[op.domain || 'ai.onnx'] = Number(op.version);
    } else if (f.field === MODEL.graph && f.wire === WIRE.bytes) {
      sawGraph = true;
      await readGraph(src, f, meta);
    }
  });
  if (!sawGraph) throw new Error('it has no graph');
  return meta;
}

async function readGraph(src: Source, graph: Field, meta: OnnxMetadata): Promise<void> {
  const initializers = new Set<string>();
  const inputs: OnnxTensorInfo[] = [];
  const valueInfo = async (f: Field) => info(onnx.ValueInfoProto.decode(await src.bytes(f.start, f.end - f.start)));
  await walk(src, graph.start, graph.end, async (f) => {
    if (f.wire !== WIRE.bytes) return;
    if (f.field === GRAPH.input) inputs.push(await valueInfo(f));
    else if (f.field === GRAPH.output) meta.outputs.push(await valueInfo(f));
    else if (f.field === GRAPH.initializer) initializers.add(await initializerName(src, f));
  });
  // Old exporters list initializers among the graph inputs; they are not inputs a client feeds.
  meta.inputs = inputs.filter((i) => !initializers.has(i.name));
}

/** An initializer's name; its data (raw_data, float_data, ...) is skipped, never read. */
async function initializerName(src: Source, tensor: Field): Promise<string> {
  let name = '';
  await walk(src, tensor.start, tensor.end, async (f) => {
    if (f.field === TENSOR_NAME && f.wire === WIRE.bytes)
      name = Buffer.from(await src.bytes(f.start, f.end - f.start)).toString('utf8');
  });
  return name;
}

function info(v: onnxProto.onnx.ValueInfoProto): OnnxTensorInfo {
  const tt = v.type?.tensorType;
  if (!tt) throw new Error(`graph value "${v.name}" is not a tensor`);
  const datatype = fromOnnxElemType(tt.elemType ?? 0);
  if (!datatype) throw new Error(`graph value "${v.name}" has unsupported element type ${tt.elemType}`);
  const dims = (tt.shape?.dim ?? []).map((d) =>
    d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : -1,
  );
  const dimNames = (tt.shape?.dim ?? []).map((d) => d.dimParam ?? '');
  return { name: v.name, datatype, dims, dimNames };
}
