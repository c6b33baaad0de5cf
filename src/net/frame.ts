/**
 * The wire format: one message = one frame = header + raw payload.
 *
 *   offset size  field
 *   0      4     magic "GTN" (0x47 0x54 0x4E) + format version (0x01)
 *   4      2     message type, u16 (src/net/message-types.ts; unknown codes are rejected)
 *   6      2     flags, u16 (application-defined)
 *   8      1     dtype: 1 Int32, 2 Float32, 3 Uint8, 4 JSON (UTF-8 text), 5 Int24 (3 bytes per
 *                element, little-endian two's complement; the packed wire form of Z_P elements)
 *   9      1     ndim, 0..8 (must be 0 for JSON)
 *   10     1     label length L, 0..64 (printable ASCII op label, e.g. "conv1.fwd")
 *   11     1     reserved, must be 0
 *   12     4     op id, u32 (request/op id; responses echo it)
 *   16     4     payload length in bytes, u32
 *   20     4·ndim dims, u32 each
 *   …      L     label
 *   …      n     payload: little-endian elements (Int32/Float32/Uint8/Int24) or UTF-8 JSON
 *
 * Header length = 20 + 4·ndim + L. All integers are little-endian. A tensor's
 * element count is the product of its dims (1 for ndim = 0) and must equal
 * payload length / element size exactly. A frame (header + payload) may not
 * exceed the receiver's `maxFrameBytes`; the decoder checks this from the fixed
 * header, before any payload is buffered.
 */
import { isKnownMessageType, messageTypeName } from './message-types.js';
import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('src/net assumes a little-endian host (typed arrays go on the wire as-is)');

export const MAGIC0 = 0x47;
export const MAGIC1 = 0x54;
export const MAGIC2 = 0x4e;
export const FORMAT_VERSION = 1;
export const FIXED_HEADER_BYTES = 20;
export const MAX_NDIM = 8;
export const MAX_LABEL_BYTES = 64;
/** Default receive/send limit for one frame (header + payload). */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024 * 1024;

export type DType = 'int32' | 'float32' | 'uint8' | 'json' | 'int24';
export const DTYPE_CODE: Record<DType, number> = { int32: 1, float32: 2, uint8: 3, json: 4, int24: 5 };
export const DTYPE_BY_CODE: readonly (DType | undefined)[] = [undefined, 'int32', 'float32', 'uint8', 'json', 'int24'];
export const ELEMENT_BYTES: Record<DType, number> = { int32: 4, float32: 4, uint8: 1, json: 1, int24: 3 };

/** Routing fields every message has. */
export interface MessageMeta {
  /** Message type code (MsgType.* or a `defineMessageType` code). */
  type: number;
  /** Request/op id (u32); 0 when unused. */
  opId: number;
  /** Op label for traffic accounting ("" when unused). */
  label: string;
  /** Application flags (u16). */
  flags: number;
}

/**
 * Tensor payloads. `int24` carries its elements packed, 3 bytes each: `data` is the raw
 * byte view (3 · element count bytes); unpacking belongs to whoever knows what they are
 * (src/field/pack.ts for field elements).
 */
export type TensorBody =
  | { dtype: 'int32'; dims: readonly number[]; data: Int32Array }
  | { dtype: 'float32'; dims: readonly number[]; data: Float32Array }
  | { dtype: 'uint8'; dims: readonly number[]; data: Uint8Array }
  | { dtype: 'int24'; dims: readonly number[]; data: Uint8Array };
export type JsonBody = { dtype: 'json'; value: unknown };

/**
 * What `Connection.send` takes. For tensors `dims` defaults to [data.length].
 * The payload is NOT copied: do not modify `data` until send() has resolved.
 */
export type OutgoingMessage = { type: number; opId?: number; label?: string; flags?: number } & (
  | { dtype: 'int32'; dims?: readonly number[]; data: Int32Array }
  | { dtype: 'float32'; dims?: readonly number[]; data: Float32Array }
  | { dtype: 'uint8'; dims?: readonly number[]; data: Uint8Array }
  | { dtype: 'int24'; dims?: readonly number[]; data: Uint8Array }
  | JsonBody
);

/** Elements of an outgoing tensor (int24: 3 bytes each). */
export function tensorElements(msg: Exclude<OutgoingMessage, JsonBody>): number {
  return msg.dtype === 'int24' ? msg.data.length / 3 : msg.data.length;
}

/**
 * What `Connection.recv` returns. Tensor `data` is a view into a pooled,
 * 8-byte-aligned buffer: it stays valid until you call `release()` (after which
 * the memory is reused by a later message — never touch it again). Not calling
 * release() is safe but forgoes reuse (the buffer is garbage-collected).
 * release() is idempotent and a no-op for JSON messages.
 */
export type ReceivedMessage = MessageMeta &
  (TensorBody | (JsonBody & { dims: readonly number[] })) & {
    /** Bytes of this frame on the wire (header + payload). */
    readonly frameBytes: number;
    release(): void;
  };

/** Malformed or oversized frames, reported by the decoder and the encoder. */
export type FrameErrorCode =
  | 'BAD_MAGIC'
  | 'BAD_VERSION'
  | 'UNKNOWN_TYPE'
  | 'BAD_DTYPE'
  | 'BAD_HEADER'
  | 'BAD_LABEL'
  | 'OVERSIZED'
  | 'BAD_DIMS'
  | 'BAD_JSON'
  | 'TRUNCATED';

export class FrameError extends Error {
  override name = 'FrameError';
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(`malformed frame (${code}): ${message}`);
  }
}

const LABEL_RE = /^[\x20-\x7e]*$/;

/** Check a label; returns it. */
export function checkLabel(label: string): string {
  if (label.length > MAX_LABEL_BYTES || !LABEL_RE.test(label)) {
    throw new FrameError('BAD_LABEL', `label must be ≤ ${MAX_LABEL_BYTES} printable ASCII characters, got ${JSON.stringify(label.slice(0, 80))}`);
  }
  return label;
}

/** Element count for dims, or -1 if it exceeds `limit`. */
export function elementCount(dims: ArrayLike<number>, limit: number): number {
  for (let i = 0; i < dims.length; i++) if (dims[i] === 0) return 0;
  let n = 1;
  for (let i = 0; i < dims.length; i++) {
    n *= dims[i];
    if (n > limit) return -1;
  }
  return n;
}

/** An encoded frame: the header bytes and the (uncopied) payload bytes. */
export interface EncodedFrame {
  header: Buffer;
  payload: Uint8Array;
  frameBytes: number;
  meta: MessageMeta;
}

/** Encode a message's header and expose its payload bytes without copying. */
export function encodeFrame(msg: OutgoingMessage, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): EncodedFrame {
  const type = msg.type;
  if (!Number.isInteger(type) || type < 0 || type > 0xffff || !isKnownMessageType(type)) {
    throw new FrameError('UNKNOWN_TYPE', `cannot send unregistered message type ${type}`);
  }
  const opId = msg.opId ?? 0;
  const flags = msg.flags ?? 0;
  if (!Number.isInteger(opId) || opId < 0 || opId > 0xffffffff) throw new FrameError('BAD_HEADER', `opId must be a u32, got ${opId}`);
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff) throw new FrameError('BAD_HEADER', `flags must be a u16, got ${flags}`);
  const label = checkLabel(msg.label ?? '');
  let payload: Uint8Array;
  let dims: readonly number[];
  if (msg.dtype === 'json') {
    const text = JSON.stringify(msg.value === undefined ? null : msg.value);
    payload = Buffer.from(text, 'utf8');
    dims = [];
  } else {
    const data = msg.data;
    const count = tensorElements(msg);
    if (!Number.isInteger(count)) throw new FrameError('BAD_DIMS', `an int24 payload of ${data.length} bytes is not a whole number of elements`);
    dims = msg.dims ?? [count];
    if (dims.length > MAX_NDIM) throw new FrameError('BAD_DIMS', `ndim ${dims.length} > ${MAX_NDIM}`);
    for (const d of dims) {
      if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) throw new FrameError('BAD_DIMS', `dims must be u32 values, got [${dims.join(',')}]`);
    }
    if (elementCount(dims, count) !== count) {
      throw new FrameError('BAD_DIMS', `dims [${dims.join(',')}] do not match ${count} elements (${messageTypeName(type)})`);
    }
    payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const headerBytes = FIXED_HEADER_BYTES + 4 * dims.length + label.length;
  const frameBytes = headerBytes + payload.byteLength;
  if (frameBytes > maxFrameBytes) {
    throw new FrameError('OVERSIZED', `${messageTypeName(type)} frame of ${frameBytes} bytes exceeds the limit of ${maxFrameBytes}`);
  }
  const header = Buffer.allocUnsafe(headerBytes);
  header[0] = MAGIC0;
  header[1] = MAGIC1;
  header[2] = MAGIC2;
  header[3] = FORMAT_VERSION;
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(flags, 6);
  header[8] = DTYPE_CODE[msg.dtype];
  header[9] = dims.length;
  header[10] = label.length;
  header[11] = 0;
  header.writeUInt32LE(opId, 12);
  header.writeUInt32LE(payload.byteLength, 16);
  let o = FIXED_HEADER_BYTES;
  for (const d of dims) {
    header.writeUInt32LE(d, o);
    o += 4;
  }
  header.write(label, o, 'latin1');
  return { header, payload, frameBytes, meta: { type, opId, label, flags } };
}

/** Bytes a message occupies on the wire (header + payload). */
export function frameSize(msg: OutgoingMessage): number {
  return encodeFrame(msg, Number.MAX_SAFE_INTEGER).frameBytes;
}
