/**
 * Reads a model's inputs, outputs and opsets straight from the .onnx file, without creating a
 * runtime session and without decoding the weights: the protobuf is walked field by field and
 * only the graph's input/output descriptions (and initializer names) are decoded.
 */
import { readFile } from 'node:fs/promises';
import protobuf from 'protobufjs/minimal.js';
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

export async function readOnnxMetadata(file: string): Promise<OnnxMetadata> {
  return parseOnnxMetadata(await readFile(file), file);
}

export function parseOnnxMetadata(bytes: Uint8Array, file = 'model.onnx'): OnnxMetadata {
  try {
    return parse(bytes);
  } catch (err) {
    throw new Error(`${file} is not a valid ONNX model: ${(err as Error).message}`);
  }
}

function parse(bytes: Uint8Array): OnnxMetadata {
  const r = protobuf.Reader.create(bytes);
  const meta: OnnxMetadata = { irVersion: 0, opsets: {}, producer: '', inputs: [], outputs: [] };
  let sawGraph = false;
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === MODEL.irVersion && (tag & 7) === 0) meta.irVersion = Number(r.int64());
    else if (field === MODEL.producerName && (tag & 7) === 2) meta.producer = r.string();
    else if (field === MODEL.opsetImport && (tag & 7) === 2) {
      const op = onnx.OperatorSetIdProto.decode(r, r.uint32());
      meta.opsets[op.domain || 'ai.onnx'] = Number(op.version);
    } else if (field === MODEL.graph && (tag & 7) === 2) {
      sawGraph = true;
      readGraph(r, r.uint32(), meta);
    } else r.skipType(tag & 7);
  }
  if (!sawGraph) throw new Error('it has no graph');
  return meta;
}

function readGraph(r: protobuf.Reader, length: number, meta: OnnxMetadata): void {
  const end = r.pos + length;
  const initializers = new Set<string>();
  const inputs: OnnxTensorInfo[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === GRAPH.input && (tag & 7) === 2) inputs.push(info(onnx.ValueInfoProto.decode(r, r.uint32())));
    else if (field === GRAPH.output && (tag & 7) === 2)
      meta.outputs.push(info(onnx.ValueInfoProto.decode(r, r.uint32())));
    else if (field === GRAPH.initializer && (tag & 7) === 2) initializers.add(initializerName(r, r.uint32()));
    else r.skipType(tag & 7);
  }
  if (r.pos !== end) throw new Error('graph length does not match its contents');
  // Old exporters list initializers among the graph inputs; they are not inputs a client feeds.
  meta.inputs = inputs.filter((i) => !initializers.has(i.name));
}

function initializerName(r: protobuf.Reader, length: number): string {
  const end = r.pos + length;
  let name = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === TENSOR_NAME && (tag & 7) === 2) name = r.string();
    else r.skipType(tag & 7);
  }
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
