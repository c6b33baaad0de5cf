/**
 * The safetensors container: an 8-byte little-endian u64 header length N, N
 * bytes of UTF-8 JSON `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__": {string: string}}`, then the raw little-endian tensor bytes
 * with offsets relative to the start of that byte buffer.
 *
 * Writer: tensors are laid out contiguously in the given order, each starting
 * at a multiple of 8 bytes (zero padding between them), and the header is
 * space-padded so the data buffer itself starts 8-byte aligned. Reader:
 * validates every length, dtype, shape and offset before touching data, and
 * copies each tensor out into its own typed array (so alignment of the file
 * buffer never matters). A SHA-256 of the data buffer in the metadata (key
 * `sha256`, when present) catches bit rot inside tensor bytes, which the
 * structure alone cannot.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';

export type DType = 'F32' | 'F64' | 'I32' | 'U32' | 'U8';
export type TensorData = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

export interface StoredTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

const DTYPES: Record<DType, { size: number; make: (b: ArrayBuffer) => TensorData }> = {
  F32: { size: 4, make: (b) => new Float32Array(b) },
  F64: { size: 8, make: (b) => new Float64Array(b) },
  I32: { size: 4, make: (b) => new Int32Array(b) },
  U32: { size: 4, make: (b) => new Uint32Array(b) },
  U8: { size: 1, make: (b) => new Uint8Array(b) },
};

/** Largest header we accept: guards against a corrupt length allocating gigabytes. */
const MAX_HEADER = 64 * 1024 * 1024;

if (endianness() !== 'LE') throw new Error('checkpoint files are little-endian; big-endian hosts are not supported');

export function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint32Array) return 'U32';
  return 'U8';
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Serialises tensors (in insertion order) and string metadata; adds the `sha256` metadata key. */
export function encodeSafetensors(tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error("tensor name '__metadata__' is reserved");
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`tensor ${name}: shape [${t.shape.join(',')}] needs ${count} elements, has ${t.data.length}`);
    const begin = align8(off);
    off = begin + t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [begin, off] };
  }
  const data = new Uint8Array(off);
  for (const [name, t] of tensors) {
    const [begin] = (header[name] as { data_offsets: [number, number] }).data_offsets;
    data.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), begin);
  }
  const meta = { ...metadata, sha256: createHash('sha256').update(data).digest('hex') };
  let json = Buffer.from(JSON.stringify({ __metadata__: meta, ...header }), 'utf8');
  const padded = align8(8 + json.length) - 8;
  if (padded > json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

export interface DecodedSafetensors {
  readonly tensors: Map<string, StoredTensor>;
  readonly metadata: Record<string, string>;
}

/** Parses and validates a safetensors buffer; `name` labels error messages. */
export function decodeSafetensors(bytes: Uint8Array, name: string): DecodedSafetensors {
  const bad = (why: string): Error => new Error(`${name}: not a valid checkpoint (${why})`);
  if (bytes.length < 8) throw bad(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) throw bad(`header length ${n} is implausible`);
  const headerLen = Number(n);
  if (8 + headerLen > bytes.length) throw bad(`truncated: header needs ${headerLen} bytes, file has ${bytes.length - 8}`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLen).toString('utf8'));
  } catch {
    throw bad('header is not valid JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object');
  const data = bytes.subarray(8 + headerLen);
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, StoredTensor>();
  const spans: [number, number, string][] = [];
  for (const [key, v] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof v !== 'object' || v === null) throw bad('__metadata__ is not an object');
      for (const [mk, mv] of Object.entries(v)) {
        if (typeof mv !== 'string') throw bad(`metadata ${mk} is not a string`);
        metadata[mk] = mv;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dt = DTYPES[e?.dtype as DType];
    if (dt === undefined) throw bad(`tensor ${key} has unsupported dtype ${JSON.stringify(e?.dtype)}`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`tensor ${key} has a bad shape`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw bad(`tensor ${key} has bad data_offsets`);
    }
    const [begin, end] = offs as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end - begin !== count * dt.size) throw bad(`tensor ${key}: offsets [${begin}, ${end}] do not match shape and dtype`);
    if (end > data.length) throw bad(`truncated: tensor ${key} ends at byte ${end} of a ${data.length}-byte data buffer`);
    spans.push([begin, end, key]);
    const copy = new Uint8Array(data.subarray(begin, end)).buffer; // a copy (Buffer#slice would be a view)
    tensors.set(key, { dtype: e.dtype as DType, shape: shape as number[], data: dt.make(copy) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) throw bad(`tensors ${spans[i - 1][2]} and ${spans[i][2]} overlap`);
  }
  const last = spans.length > 0 ? spans[spans.length - 1][1] : 0;
  if (data.length > align8(last)) throw bad(`${data.length - last} trailing bytes after the last tensor`);
  if (metadata.sha256 !== undefined) {
    const digest = createHash('sha256').update(data).digest('hex');
    if (digest !== metadata.sha256) throw bad('checksum mismatch: tensor data is corrupt');
  }
  return { tensors, metadata };
}
