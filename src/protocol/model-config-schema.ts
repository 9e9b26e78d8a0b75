/**
 * The ModelConfig message of model_config.proto as a @bufbuild/protobuf schema, for reading
 * Triton's config.pbtxt (the protobuf text format). The .proto is parsed at run time with
 * protobufjs (which gRPC's loader uses too), and its reflection is written out as the
 * FileDescriptorProto that @bufbuild/protobuf builds schemas from: no generated code to keep in
 * step with the .proto.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { createFileRegistry, fromJson, type DescMessage, type JsonObject } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

/** model_config.proto, beside this module (tsx) or in src/protocol/ (dist: tsc copies no .proto). */
function modelConfigProto(): string {
  const beside = fileURLToPath(new URL('./model_config.proto', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../src/protocol/model_config.proto', import.meta.url));
}

const SCALARS: Record<string, string> = {
  double: 'TYPE_DOUBLE',
  float: 'TYPE_FLOAT',
  int64: 'TYPE_INT64',
  uint64: 'TYPE_UINT64',
  int32: 'TYPE_INT32',
  fixed64: 'TYPE_FIXED64',
  fixed32: 'TYPE_FIXED32',
  bool: 'TYPE_BOOL',
  string: 'TYPE_STRING',
  bytes: 'TYPE_BYTES',
  uint32: 'TYPE_UINT32',
  sfixed32: 'TYPE_SFIXED32',
  sfixed64: 'TYPE_SFIXED64',
  sint32: 'TYPE_SINT32',
  sint64: 'TYPE_SINT64',
};

/** The type of a field, or of a map's value: a scalar, or a reference to an enum or a message. */
function typeOf(type: string, resolved: protobuf.ReflectionObject | null): JsonObject {
  if (SCALARS[type]) return { type: SCALARS[type] };
  if (!resolved) throw new Error(`model_config.proto: type ${type} is not resolved`);
  return { type: resolved instanceof protobuf.Enum ? 'TYPE_ENUM' : 'TYPE_MESSAGE', typeName: resolved.fullName };
}

/** protoc's name for a map field's entry message: "priority_queue_policy" -> "PriorityQueuePolicyEntry". */
const entryName = (field: string) => `${field.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase())}Entry`;

function enumDescriptor(e: protobuf.Enum): JsonObject {
  return { name: e.name, value: Object.entries(e.values).map(([name, number]) => ({ name, number })) };
}

function messageDescriptor(t: protobuf.Type): JsonObject {
  const maps = t.fieldsArray.filter((f) => f.map) as unknown as protobuf.MapField[];
  const field = t.fieldsArray.map((f): JsonObject => {
    const oneof: JsonObject = f.partOf ? { oneofIndex: t.oneofsArray.indexOf(f.partOf) } : {};
    if (f.map) {
      const typeName = `${t.fullName}.${entryName(f.name)}`;
      return { name: f.name, number: f.id, label: 'LABEL_REPEATED', type: 'TYPE_MESSAGE', typeName };
    }
    const label = f.repeated ? 'LABEL_REPEATED' : 'LABEL_OPTIONAL';
    return { name: f.name, number: f.id, label, ...typeOf(f.type, f.resolvedType), ...oneof };
  });
  const entries = maps.map((f) => ({
    name: entryName(f.name),
    field: [
      { name: 'key', number: 1, label: 'LABEL_OPTIONAL', ...typeOf(f.keyType, null) },
      { name: 'value', number: 2, label: 'LABEL_OPTIONAL', ...typeOf(f.type, f.resolvedType) },
    ],
    options: { mapEntry: true },
  }));
  const nested = t.nestedArray;
  return {
    name: t.name,
    field,
    nestedType: [...nested.filter((n) => n instanceof protobuf.Type).map(messageDescriptor), ...entries],
    enumType: nested.filter((n) => n instanceof protobuf.Enum).map(enumDescriptor),
    oneofDecl: t.oneofsArray.map((o) => ({ name: o.name })),
  };
}

let schema: DescMessage | undefined;

/** inference.ModelConfig, built once. */
export function modelConfigSchema(): DescMessage {
  if (schema) return schema;
  const root = new protobuf.Root().loadSync(modelConfigProto(), { keepCase: true });
  root.resolveAll();
  const pkg = root.lookup('inference') as protobuf.Namespace;
  const file = {
    name: 'model_config.proto',
    package: 'inference',
    syntax: 'proto3',
    messageType: pkg.nestedArray.filter((n) => n instanceof protobuf.Type).map(messageDescriptor),
    enumType: pkg.nestedArray.filter((n) => n instanceof protobuf.Enum).map(enumDescriptor),
  };
  const registry = createFileRegistry(fromJson(FileDescriptorSetSchema, { file: [file] }));
  const found = registry.getMessage('inference.ModelConfig');
  if (!found) throw new Error('model_config.proto has no inference.ModelConfig');
  schema = found;
  return schema;
}
