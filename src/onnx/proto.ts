/**
 * ONNX models as plain objects, encoded and decoded by protobufjs with ONNX's own schema
 * (src/onnx/onnx.proto → schema.ts). Only the parts of the schema this project reads or writes are typed
 * here; field names are the .proto's (snake_case). Decoding turns int64 fields into numbers (dimensions,
 * attributes and shape constants are far below 2^53; a larger one is refused) and fills every repeated
 * field with an array, so the importer never meets `undefined` lists.
 */
import protobuf from 'protobufjs';
import { ONNX_SCHEMA_JSON } from './schema.js';

/** TensorProto.DataType values used here. */
export const DT_FLOAT = 1;
export const DT_INT64 = 7;

/** AttributeProto.AttributeType values used here. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

export interface TensorProto {
  name?: string;
  dims: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data: number[];
  int64_data: number[];
  int32_data: number[];
  double_data: number[];
  data_location?: number;
  external_data?: { key?: string; value?: string }[];
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats: number[];
  ints: number[];
  g?: unknown;
  graphs?: unknown[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute: AttributeProto[];
}

export interface Dimension {
  dim_value?: number;
  dim_param?: string;
}

export interface ValueInfoProto {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim: Dimension[] } } };
}

export interface GraphProto {
  name?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info: ValueInfoProto[];
  sparse_initializer?: unknown[];
}

export interface ModelProto {
  ir_version?: number;
  opset_import: { domain?: string; version?: number }[];
  producer_name?: string;
  producer_version?: string;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props: { key?: string; value?: string }[];
  functions?: unknown[];
}

let modelType: protobuf.Type | null = null;

function modelProto(): protobuf.Type {
  // parsed once, on first use: commands that never touch ONNX pay nothing
  modelType ??= protobuf.Root.fromJSON(JSON.parse(ONNX_SCHEMA_JSON) as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialises a model (protobuf binary, the .onnx file format). */
export function encodeModel(m: ModelProto): Uint8Array {
  const t = modelProto();
  return t.encode(t.fromObject(m as unknown as Record<string, unknown>)).finish();
}

/** Parses a .onnx file's bytes; throws an Error naming `what` when they are not a protobuf ModelProto. */
export function decodeModel(bytes: Uint8Array, what = 'model'): ModelProto {
  const t = modelProto();
  let msg: protobuf.Message;
  try {
    msg = t.decode(bytes);
  } catch (err) {
    throw new Error(`${what}: not an ONNX model (${(err as Error).message})`);
  }
  const o = t.toObject(msg, { longs: String, enums: Number, arrays: true, defaults: false, oneofs: false });
  return toNumbers(o) as ModelProto;
}

/** int64 fields arrive as decimal strings (exact); turn them into numbers, refusing unsafe ones. */
function toNumbers(v: unknown): unknown {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(toNumbers);
  if (v instanceof Uint8Array || v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = INT64_FIELDS.has(k) ? int64(x, k) : toNumbers(x);
  return out;
}

const INT64_FIELDS = new Set(['ir_version', 'model_version', 'version', 'i', 'ints', 'dims', 'int64_data', 'dim_value', 'begin', 'end', 'uint64_data']);

function int64(x: unknown, field: string): unknown {
  if (Array.isArray(x)) return x.map((e) => int64(e, field));
  if (typeof x !== 'string' && typeof x !== 'number') return x;
  const n = Number(x);
  if (!Number.isSafeInteger(n)) throw new Error(`ONNX field '${field}' holds ${x}, beyond the integers this importer handles`);
  return n;
}
