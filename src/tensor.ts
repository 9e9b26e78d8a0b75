/**
 * Tensors as tenancy passes them around: Open Inference Protocol datatype names, a concrete shape,
 * and data as a typed array (or BYTES elements: strings, or raw bytes as they came off a binary
 * wire). Conversions to the names used by model configs (Triton's TYPE_*) and by ONNX Runtime live
 * here, once.
 */
export type DataType =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

export type TensorData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint32Array
  | BigUint64Array
  | BytesElement[];

/**
 * One BYTES element: a string where it came from JSON (or a model), the exact bytes where it came
 * from binary data (HTTP binary, gRPC raw or bytes contents), so binary payloads such as encoded
 * images survive unchanged. Use bytesOf() / textOf() to read either form.
 */
export type BytesElement = string | Uint8Array;

/** The bytes of a BYTES element (a string is taken as UTF-8). */
export function bytesOf(e: BytesElement): Buffer {
  return typeof e === 'string' ? Buffer.from(e, 'utf8') : Buffer.from(e.buffer, e.byteOffset, e.byteLength);
}

/** A BYTES element as text (bytes are read as UTF-8). */
export function textOf(e: BytesElement): string {
  return typeof e === 'string' ? e : Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('utf8');
}

export interface Tensor {
  datatype: DataType;
  /** Concrete dimensions, batch dimension first when the model batches. */
  shape: number[];
  data: TensorData;
}

export type TensorMap = Record<string, Tensor>;

interface TypeInfo {
  ort: string;
  bytes: number; // per element; 0 = variable (BYTES)
  make: (n: number) => TensorData;
  from?: (buf: ArrayBuffer, offset: number, n: number) => TensorData;
}

const TYPES: Record<DataType, TypeInfo> = {
  BOOL: { ort: 'bool', bytes: 1, make: (n) => new Uint8Array(n), from: (b, o, n) => new Uint8Array(b, o, n) },
  UINT8: { ort: 'uint8', bytes: 1, make: (n) => new Uint8Array(n), from: (b, o, n) => new Uint8Array(b, o, n) },
  UINT16: { ort: 'uint16', bytes: 2, make: (n) => new Uint16Array(n), from: (b, o, n) => new Uint16Array(b, o, n) },
  UINT32: { ort: 'uint32', bytes: 4, make: (n) => new Uint32Array(n), from: (b, o, n) => new Uint32Array(b, o, n) },
  UINT64: {
    ort: 'uint64',
    bytes: 8,
    make: (n) => new BigUint64Array(n),
    from: (b, o, n) => new BigUint64Array(b, o, n),
  },
  INT8: { ort: 'int8', bytes: 1, make: (n) => new Int8Array(n), from: (b, o, n) => new Int8Array(b, o, n) },
  INT16: { ort: 'int16', bytes: 2, make: (n) => new Int16Array(n), from: (b, o, n) => new Int16Array(b, o, n) },
  INT32: { ort: 'int32', bytes: 4, make: (n) => new Int32Array(n), from: (b, o, n) => new Int32Array(b, o, n) },
  INT64: { ort: 'int64', bytes: 8, make: (n) => new BigInt64Array(n), from: (b, o, n) => new BigInt64Array(b, o, n) },
  FP16: { ort: 'float16', bytes: 2, make: (n) => new Uint16Array(n), from: (b, o, n) => new Uint16Array(b, o, n) },
  FP32: { ort: 'float32', bytes: 4, make: (n) => new Float32Array(n), from: (b, o, n) => new Float32Array(b, o, n) },
  FP64: { ort: 'float64', bytes: 8, make: (n) => new Float64Array(n), from: (b, o, n) => new Float64Array(b, o, n) },
  BYTES: { ort: 'string', bytes: 0, make: (n) => new Array<string>(n).fill('') },
};

export const DATATYPES = Object.keys(TYPES) as DataType[];

export function isDataType(s: unknown): s is DataType {
  return typeof s === 'string' && Object.hasOwn(TYPES, s);
}

/** Bytes per element, 0 for BYTES (variable length). */
export function elementBytes(dt: DataType): number {
  return TYPES[dt].bytes;
}

/** Product of the dimensions: the number of elements of a tensor of this shape. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function zeros(dt: DataType, n: number): TensorData {
  return TYPES[dt].make(n);
}

/**
 * A buffer of n elements with unspecified contents, for a caller that overwrites all of it (a
 * batch being merged, a copy): no zero-filling pass over a tensor that is written right after.
 * Its ArrayBuffer is its own and exactly this size, so it can be transferred; `take` may supply
 * a reused one. BYTES: as zeros().
 */
export function uninitialized(
  dt: DataType,
  n: number,
  take: (bytes: number) => ArrayBuffer = (b) => Buffer.allocUnsafeSlow(b).buffer as ArrayBuffer,
): TensorData {
  const info = TYPES[dt];
  if (!info.from) return info.make(n);
  return info.from(take(n * info.bytes), 0, n);
}

/** A typed view over raw little-endian bytes (copied first when not aligned). */
export function fromBytes(dt: DataType, bytes: Uint8Array): TensorData {
  const info = TYPES[dt];
  if (!info.from) throw new Error(`fromBytes: ${dt} has no fixed element size`);
  const n = bytes.byteLength / info.bytes;
  if (bytes.byteOffset % info.bytes === 0) return info.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
  // A real copy into a fresh, aligned buffer (Buffer#slice would return a view, not a copy).
  const copy = new Uint8Array(bytes);
  return info.from(copy.buffer, 0, n);
}

// Config files use Triton's names: TYPE_FP32, TYPE_STRING, ...
const CONFIG_NAMES: Record<string, DataType> = {
  TYPE_BOOL: 'BOOL',
  TYPE_UINT8: 'UINT8',
  TYPE_UINT16: 'UINT16',
  TYPE_UINT32: 'UINT32',
  TYPE_UINT64: 'UINT64',
  TYPE_INT8: 'INT8',
  TYPE_INT16: 'INT16',
  TYPE_INT32: 'INT32',
  TYPE_INT64: 'INT64',
  TYPE_FP16: 'FP16',
  TYPE_FP32: 'FP32',
  TYPE_FP64: 'FP64',
  TYPE_STRING: 'BYTES',
};

export const CONFIG_TYPE_NAMES = Object.keys(CONFIG_NAMES);

export function fromConfigType(s: string): DataType | undefined {
  return CONFIG_NAMES[s];
}

export function toConfigType(dt: DataType): string {
  return dt === 'BYTES' ? 'TYPE_STRING' : `TYPE_${dt}`;
}

export function toOrtType(dt: DataType): string {
  return TYPES[dt].ort;
}

const FROM_ORT: Record<string, DataType> = Object.fromEntries(
  (Object.entries(TYPES) as [DataType, TypeInfo][]).map(([k, v]) => [v.ort, k]),
);

export function fromOrtType(s: string): DataType | undefined {
  return FROM_ORT[s];
}

// ONNX TensorProto.DataType numbers, for reading model files without a session.
const FROM_ONNX: Record<number, DataType> = {
  1: 'FP32',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'BYTES',
  9: 'BOOL',
  10: 'FP16',
  11: 'FP64',
  12: 'UINT32',
  13: 'UINT64',
};

export function fromOnnxElemType(n: number): DataType | undefined {
  return FROM_ONNX[n];
}

/** Checks that data's JS type fits the datatype, e.g. FP32 needs a Float32Array. */
export function dataMatches(dt: DataType, data: unknown): boolean {
  if (dt === 'BYTES') return Array.isArray(data);
  const sample = TYPES[dt].make(0);
  return data instanceof (sample.constructor as new (...a: never[]) => unknown);
}
