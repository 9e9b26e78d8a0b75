/**
 * Triton's config.pbtxt: the protobuf text format of ModelConfig, read with @bufbuild/protobuf's
 * text parser against model_config.proto (protocol/model-config-schema.ts), then turned into the
 * JSON form config.json has (Triton's field names, what GET .../config returns), which
 * model-config.ts validates as it validates config.json. A syntax error names its line and
 * column; a field tenancy does not serve is refused by name, never dropped.
 */
import { ScalarType, toJson, type DescField, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { fromText } from '@bufbuild/protobuf/txtpb';
import { errors } from '../errors.js';
import { modelConfigSchema } from '../protocol/model-config-schema.js';

type Json = Record<string, unknown>;

/** Parses config.pbtxt text into config.json's form; `file` names it in errors. */
export function parsePbtxt(text: string, file: string): Json {
  const schema = modelConfigSchema();
  let message: ReturnType<typeof fromText>;
  try {
    message = fromText(schema, text);
  } catch (err) {
    const at = errorPosition(schema, text, (err as Error).message);
    throw errors.invalidArg(`${file}:${at.line}:${at.column}: ${(err as Error).message}`, { file });
  }
  const json = plain(schema, toJson(schema, message, { useProtoFieldName: true }) as Json);
  return fromTriton(json, file);
}

/** 64-bit integers leave toJson as strings; config.json has numbers (every count here fits). */
const INT64 = new Set([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
  ScalarType.SINT64,
]);

function scalar(type: ScalarType, v: unknown): unknown {
  return INT64.has(type) && typeof v === 'string' ? Number(v) : v;
}

function plain(desc: DescMessage, json: Json): Json {
  const out: Json = {};
  for (const f of desc.fields) if (json[f.name] !== undefined) out[f.name] = value(f, json[f.name] as JsonValue);
  return out;
}

function value(f: DescField, v: JsonValue): unknown {
  switch (f.fieldKind) {
    case 'scalar':
      return scalar(f.scalar, v);
    case 'message':
      return plain(f.message, v as Json);
    case 'list':
      return (v as JsonValue[]).map((x) =>
        f.listKind === 'scalar' ? scalar(f.scalar, x) : f.listKind === 'message' ? plain(f.message, x as Json) : x,
      );
    case 'map':
      return Object.fromEntries(
        Object.entries(v as Json).map(([k, x]) => [
          k,
          f.mapKind === 'message' ? plain(f.message, x as Json) : f.mapKind === 'scalar' ? scalar(f.scalar, x) : x,
        ]),
      );
    default:
      return v;
  }
}

/** Top-level fields of Triton's ModelConfig that tenancy does not serve, and why. */
const REFUSED: Record<string, string> = {
  sequence_batching: 'stateful sequence models are not served (use dynamic_batching or none)',
  ensemble_scheduling: 'ensembles are not served: send each model its own request',
  batch_input: 'batch inputs are not served',
  batch_output: 'batch outputs are not served',
  optimization: 'execution accelerators, CUDA graphs and the other optimization settings are not served',
  model_operations: 'custom operation libraries are never loaded',
  model_repository_agents: 'repository agents are not served',
  model_transaction_policy: 'decoupled models are not served',
  cc_model_filenames: 'per-GPU model files are not served',
  metric_tags: 'metric tags are not served',
  response_cache: 'the response cache is not served',
  runtime: 'only the ONNX Runtime backend serves here',
};
const REFUSED_INPUT: Record<string, string> = {
  is_shape_tensor: 'shape tensors are not served',
  allow_ragged_batch: 'ragged batches are not served',
  // Measured (test/runtime/onnxruntime-node-cannot-serve-optional-inputs.test.ts): onnxruntime-node
  // refuses a run without any input it lists, and an input with a default in the file (an
  // overridable initializer) is not listed, and a value sent for it is ignored.
  optional:
    'optional inputs are not served: onnxruntime-node needs every graph input in each run, ' +
    'and ignores a value sent for an input that has a default in the model file',
  is_non_linear_format_io: 'non-linear formats are not served',
};
const REFUSED_OUTPUT: Record<string, string> = {
  is_shape_tensor: REFUSED_INPUT.is_shape_tensor,
  is_non_linear_format_io: REFUSED_INPUT.is_non_linear_format_io,
};
const REFUSED_GROUP: Record<string, string> = {
  profile: 'TensorRT profiles are not served',
  rate_limiter: 'the rate limiter is not served',
  passive: 'passive instances are not served',
  secondary_devices: 'secondary devices are not served',
  host_policy: 'host policies are not served',
};

/**
 * Triton's form to tenancy's: the same field names, with the refused fields named and Triton's
 * `gpus` list turned into one group per GPU (Triton puts `count` instances on each).
 */
function fromTriton(c: Json, file: string): Json {
  const refuse = (field: string, why: string) => {
    throw errors.invalidArg(`${file}: ${field} is not supported by tenancy: ${why}`, { file, field });
  };
  for (const [k, why] of Object.entries(REFUSED)) if (c[k] !== undefined) refuse(k, why);
  const out: Json = { ...c };
  const tensors = (field: 'input' | 'output', refused: Record<string, string>) =>
    ((c[field] as Json[] | undefined) ?? []).map((t, i) => {
      for (const [k, why] of Object.entries(refused)) if (t[k] !== undefined) refuse(`${field}[${i}].${k}`, why);
      // format says how an image input is laid out (Triton uses it for TensorRT); ONNX models say it in dims.
      const { format: _format, ...rest } = t;
      return rest;
    });
  if (c.input !== undefined) out.input = tensors('input', REFUSED_INPUT);
  if (c.output !== undefined) out.output = tensors('output', REFUSED_OUTPUT);
  if (c.instance_group !== undefined)
    out.instance_group = (c.instance_group as Json[]).flatMap((g, i) => {
      for (const [k, why] of Object.entries(REFUSED_GROUP))
        if (g[k] !== undefined) refuse(`instance_group[${i}].${k}`, why);
      if (g.kind === 'KIND_MODEL')
        refuse(`instance_group[${i}].kind`, 'KIND_MODEL is for backends that place themselves');
      const { gpus, ...rest } = g as Json & { gpus?: number[] };
      if (!gpus) return [rest];
      if (g.kind !== 'KIND_GPU') refuse(`instance_group[${i}].gpus`, 'gpus needs kind: KIND_GPU');
      return gpus.map((n) => ({ ...rest, device: `gpu:${n}` }));
    });
  return out;
}

/**
 * Where a text-format error happened, as line and column. The parser says what but not where, and
 * it reads left to right: a prefix of the text that ends before the bad token parses or ends early,
 * and every longer one fails with the same message. A binary search over token ends finds it.
 */
function errorPosition(schema: DescMessage, text: string, message: string): { line: number; column: number } {
  if (message.startsWith('unexpected end of input')) return lineColumn(text, text.length);
  const ends = tokenEnds(text);
  const failsSame = (end: number) => {
    try {
      fromText(schema, text.slice(0, end));
      return false;
    } catch (err) {
      return (err as Error).message === message;
    }
  };
  let lo = 0;
  let hi = ends.length - 1;
  if (hi < 0 || !failsSame(ends[hi])) return lineColumn(text, text.length);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsSame(ends[mid])) hi = mid;
    else lo = mid + 1;
  }
  return lineColumn(text, tokenStart(text, ends[lo]));
}

const TOKEN = /\s+|#[^\n]*|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|[\w.+-]+|./gy;

/** The offset just after each token (whitespace and comments are no tokens). */
function tokenEnds(text: string): number[] {
  const ends: number[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text))
    if (!/^\s/.test(m[0]) && !m[0].startsWith('#')) ends.push(TOKEN.lastIndex);
  return ends;
}

function tokenStart(text: string, end: number): number {
  TOKEN.lastIndex = 0;
  let start = 0;
  for (let m = TOKEN.exec(text); m && TOKEN.lastIndex <= end; m = TOKEN.exec(text)) start = m.index;
  return start;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
