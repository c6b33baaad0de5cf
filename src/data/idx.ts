/**
 * IDX reader (the MNIST container format), gzipped or not.
 *
 * Layout (all integers big-endian): magic `00 00 <type> <ndim>`, then `ndim`
 * uint32 dimensions, then the row-major data. A file starting with the gzip
 * magic `1f 8b` is inflated first, so `train-images-idx3-ubyte.gz` and the
 * uncompressed file read the same. Sizes are validated exactly: a short file
 * is reported as truncated, a long one as having trailing bytes.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  /** The IDX type byte (0x08 ubyte, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64). */
  readonly type: number;
  readonly dims: readonly number[];
  readonly data: IdxData;
}

const ELEMENT_SIZE: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

/** True when the bytes start with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Parses an IDX buffer; `name` only labels error messages. */
export function parseIdx(raw: Uint8Array, name = 'IDX data'): IdxArray {
  let bytes = raw;
  if (isGzip(raw)) {
    try {
      bytes = gunzipSync(raw);
    } catch (err) {
      throw new Error(`${name}: corrupt gzip stream (${(err as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new Error(`${name}: truncated IDX header (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`${name}: bad IDX magic ${hex} (expected 00 00 <type> <ndim>)`);
  }
  const type = bytes[2];
  const ndim = bytes[3];
  const elem = ELEMENT_SIZE[type];
  if (elem === undefined) throw new Error(`${name}: unknown IDX element type 0x${type.toString(16)}`);
  if (ndim === 0) throw new Error(`${name}: IDX file declares 0 dimensions`);
  const header = 4 + 4 * ndim;
  if (bytes.length < header) throw new Error(`${name}: truncated IDX header (${bytes.length} of ${header} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const expected = header + count * elem;
  if (bytes.length < expected) {
    throw new Error(`${name}: truncated IDX data (${bytes.length} bytes, dims [${dims.join('×')}] need ${expected})`);
  }
  if (bytes.length > expected) {
    throw new Error(`${name}: ${bytes.length - expected} trailing bytes after IDX data of dims [${dims.join('×')}]`);
  }
  return { type, dims, data: decode(view, header, count, type) };
}

function decode(view: DataView, off: number, n: number, type: number): IdxData {
  switch (type) {
    case 0x08:
      // copy out so the (possibly large, inflated) file buffer can be freed independently
      return new Uint8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
    case 0x09:
      return new Int8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
    case 0x0b: {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(off + 2 * i, false);
      return out;
    }
    case 0x0c: {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(off + 4 * i, false);
      return out;
    }
    case 0x0d: {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(off + 4 * i, false);
      return out;
    }
    default: {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(off + 8 * i, false);
      return out;
    }
  }
}

/** Reads and parses one IDX file (gzipped or not). */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseIdx(bytes, path);
}

/** Encodes an IDX file (used by tests and tools that export data). */
export function encodeIdxU8(dims: readonly number[], data: Uint8Array): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}
