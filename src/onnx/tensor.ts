/**
 * TensorProto ↔ typed arrays. Float tensors are written as little-endian `raw_data` (what PyTorch writes,
 * and the compact form); reading accepts `raw_data` as well as the typed `float_data` / `int64_data` /
 * `int32_data` lists. External data (weights in side files) is refused: an imported model is one file.
 */
import { DT_FLOAT, DT_INT64, type TensorProto } from './proto.js';

export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i], true);
  return { name, dims: [...dims], data_type: DT_FLOAT, raw_data: raw, float_data: [], int64_data: [], int32_data: [], double_data: [] };
}

export function int64Tensor(name: string, values: readonly number[]): TensorProto {
  return { name, dims: [values.length], data_type: DT_INT64, int64_data: [...values], float_data: [], int32_data: [], double_data: [] };
}

export function elementCount(t: TensorProto): number {
  return t.dims.reduce((a, b) => a * b, 1);
}

function checkLocal(t: TensorProto, what: string): void {
  if (t.data_location === 1 || (t.external_data?.length ?? 0) > 0) {
    throw new Error(`${what}: tensor '${t.name}' keeps its data in an external file; save the model as one file (onnx.save(..., save_as_external_data=False))`);
  }
}

/** The values of a FLOAT (or DOUBLE) tensor as float32. */
export function readFloats(t: TensorProto, what: string): Float32Array {
  checkLocal(t, what);
  const n = elementCount(t);
  let out: Float32Array;
  if (t.data_type === DT_FLOAT) {
    if (t.raw_data && t.raw_data.length > 0) {
      if (t.raw_data.length !== 4 * n) throw new Error(`${what}: tensor '${t.name}' has ${t.raw_data.length} data bytes for ${n} floats`);
      const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
      out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    } else {
      out = Float32Array.from(t.float_data);
    }
  } else if (t.data_type === 11) {
    if (t.raw_data && t.raw_data.length > 0) {
      const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
      out = Float32Array.from({ length: t.raw_data.length / 8 }, (_, i) => view.getFloat64(8 * i, true));
    } else {
      out = Float32Array.from(t.double_data);
    }
  } else {
    throw new Error(`${what}: tensor '${t.name}' has data type ${t.data_type}; only float tensors are supported here`);
  }
  if (out.length !== n) throw new Error(`${what}: tensor '${t.name}' holds ${out.length} values for dims [${t.dims.join(',')}]`);
  return out;
}

/** The values of an INT64 (or INT32, or BOOL) tensor: shape constants, flags. */
export function readInts(t: TensorProto, what: string): number[] {
  checkLocal(t, what);
  const n = elementCount(t);
  let out: number[];
  if (t.data_type === DT_INT64 && t.raw_data && t.raw_data.length > 0) {
    const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
    out = Array.from({ length: t.raw_data.length / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
  } else if (t.data_type === DT_INT64) {
    out = [...t.int64_data];
  } else if ((t.data_type === 6 || t.data_type === 9) && t.raw_data && t.raw_data.length > 0) {
    const raw = t.raw_data;
    out = t.data_type === 9 ? Array.from(raw) : Array.from({ length: raw.length / 4 }, (_, i) => new DataView(raw.buffer, raw.byteOffset).getInt32(4 * i, true));
  } else if (t.data_type === 6 || t.data_type === 9) {
    out = [...t.int32_data];
  } else {
    throw new Error(`${what}: tensor '${t.name}' has data type ${t.data_type}; expected an integer tensor`);
  }
  if (out.length !== n) throw new Error(`${what}: tensor '${t.name}' holds ${out.length} values for dims [${t.dims.join(',')}]`);
  return out;
}
