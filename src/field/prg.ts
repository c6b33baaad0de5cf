/**
 * Seeded, addressable pseudo-random streams over Z_P and of stochastic-rounding noise.
 *
 * Keystream. A stream is identified by a 16-byte AES key and a 64-bit stream id. Its raw
 * output is the AES-128-CTR keystream E_k(IV), E_k(IV + 1), … with the 16-byte initial
 * counter block
 *
 *     IV = streamId (8 bytes, big-endian) ‖ 0x00 × 8,
 *
 * so the stream id lives in the high half and the block counter in the low half (OpenSSL
 * increments the block as one big-endian 128-bit integer; the low half wraps only after
 * 2^64 blocks = 2^68 bytes). Two processes holding the same key and id therefore draw the
 * same bytes, and distinct ids under one key never overlap. The keystream is read as
 * consecutive little-endian uint32 words w_0, w_1, … on every platform.
 *
 * Field elements (`fillCentred`). Each word gives the candidate v = w & 0x1FFFFF
 * (21 bits); candidates v ≥ P are rejected (probability 9/2^21 ≈ 4.3e−6), so accepted
 * values are exactly uniform on [0, P). The output is the centred representative of v,
 * i.e. v for v ≤ HALF and v − P otherwise, in [−HALF, HALF].
 *
 * Noise (`fillNoise`). Each word gives g = (w >>> 8) · 2^−24, exactly uniform on the grid
 * {0, 2^−24, …, 1 − 2^−24} ⊂ [0, 1); every value is exactly representable in float32.
 * (The protocol's rounding noise does not come from here but from the cheaper counter-based
 * NoiseStream of noise.ts, whose stream keys are the first block of this keystream.)
 *
 * Determinism. Every element consumes whole words in order, and rejection is decided per
 * word, so the output depends only on (key, id) and on the sequence of fill kinds and
 * lengths — never on how a request is split into calls. Reading 10 then 90 elements gives
 * the same 100 values as reading 100 at once. Mixing `fillCentred` and `fillNoise` on one
 * stream is allowed but both parties must then make the same calls in the same order;
 * the protocol normally keeps one stream per purpose.
 *
 * Cost. The cipher is fed in pieces of at most 64 KiB (one large `update()` is ~20× slower
 * on these machines); the zero plaintext is one shared buffer and the loops write straight
 * into the caller's arrays. Node has no encrypt-into-buffer API, so each `update()` returns a
 * fresh ≤ 64 KiB Buffer; it is consumed at once (and stays cache-resident), so allocation is
 * bounded per piece, never proportional to the request. About 2× the cost of the raw
 * keystream alone; ≈ 88 % of the speed of "keystream + a bare masked copy" here.
 */
import { createCipheriv, hkdfSync, type Cipher } from 'node:crypto';
import { endianness } from 'node:os';
import { HALF as HALF_, P as P_ } from './prime.js';

// Module-local copies: under tsx, imported bindings compile to getter calls that are ~20×
// slower inside hot loops than a local const.
const P = P_;
const HALF = HALF_;

/** Bytes in a stream key (AES-128). */
export const STREAM_KEY_BYTES = 16;
/** Bytes in a master secret accepted by `deriveStreamKey`. */
export const MASTER_KEY_BYTES = 32;
/** Largest keystream piece handed to one `cipher.update()`. */
export const MAX_PIECE_BYTES = 65536;
/** Smallest piece, so that many tiny requests do not pay one cipher call each. */
const MIN_PIECE_BYTES = 4096;
/** The 21-bit candidate mask. */
const MASK21 = 0x1fffff;
/** 2^−24: the noise grid step. */
const NOISE_STEP = 1 / 16777216;
const MAX_STREAM_ID = (1n << 64n) - 1n;
const BIG_ENDIAN_HOST = endianness() === 'BE';
/** Shared all-zero plaintext: CTR encryption of zeros is the raw keystream. Never written. */
const ZEROS = new Uint8Array(MAX_PIECE_BYTES);
const NO_WORDS = new Int32Array(0);

/** A seeded AES-128-CTR stream of field elements and rounding noise (see the module comment). */
export class FieldStream {
  /** The 64-bit stream id this stream was opened with. */
  readonly streamId: bigint;
  readonly #cipher: Cipher;
  /** The current keystream piece as int32 words (bit patterns of the LE uint32 words). */
  #words: Int32Array = NO_WORDS;
  #pos = 0;
  /** Words taken from the cipher before the current piece. */
  #before = 0;
  /** Aligned scratch used only if the cipher hands back a misaligned buffer. */
  #scratch: Int32Array | null = null;

  private constructor(key: Uint8Array, streamId: bigint) {
    if (!(key instanceof Uint8Array) || key.length !== STREAM_KEY_BYTES) {
      throw new TypeError(`FieldStream key must be a Uint8Array of ${STREAM_KEY_BYTES} bytes`);
    }
    if (typeof streamId !== 'bigint' || streamId < 0n || streamId > MAX_STREAM_ID) {
      throw new RangeError(`FieldStream id must be a bigint in [0, 2^64), got ${String(streamId)}`);
    }
    this.streamId = streamId;
    const iv = Buffer.alloc(16);
    iv.writeBigUInt64BE(streamId, 0);
    this.#cipher = createCipheriv('aes-128-ctr', key, iv);
  }

  /** Opens stream `streamId` (0 ≤ id < 2^64) under a 16-byte key, positioned at its start. */
  static open(key: Uint8Array, streamId: bigint): FieldStream {
    return new FieldStream(key, streamId);
  }

  /** Number of 32-bit keystream words consumed so far (accepted and rejected). */
  get wordsConsumed(): number {
    return this.#before + this.#pos;
  }

  /**
   * Writes `length` uniform centred field elements into out[offset … offset + length).
   * Returns `out`.
   */
  fillCentred(out: Int32Array, offset = 0, length = out.length - offset): Int32Array {
    const end = checkRange(out.length, offset, length);
    let i = offset;
    while (i < end) {
      if (this.#pos >= this.#words.length) this.#refill(end - i);
      // Each word yields at most one element, so this many words cannot overrun `end`.
      const n = Math.min(end - i, this.#words.length - this.#pos);
      i = centredFromWords(this.#words, this.#pos, n, out, i);
      this.#pos += n;
    }
    return out;
  }

  /**
   * Writes `length` noise values g = (w >>> 8)·2^−24 ∈ [0, 1) into out[offset … offset + length).
   * One word per value, no rejection. Returns `out`.
   */
  fillNoise<T extends Float64Array | Float32Array>(out: T, offset = 0, length = out.length - offset): T {
    const end = checkRange(out.length, offset, length);
    let i = offset;
    while (i < end) {
      if (this.#pos >= this.#words.length) this.#refill(end - i);
      const n = Math.min(end - i, this.#words.length - this.#pos);
      if (out instanceof Float64Array) noiseF64(this.#words, this.#pos, out, i, n);
      else noiseF32(this.#words, this.#pos, out as Float32Array, i, n);
      this.#pos += n;
      i += n;
    }
    return out;
  }

  /** Draws the next keystream piece, sized for `wanted` more words (within the piece limits). */
  #refill(wanted: number): void {
    const bytes = Math.min(MAX_PIECE_BYTES, Math.max(MIN_PIECE_BYTES, (wanted * 4 + 63) & ~63));
    const buf = this.#cipher.update(ZEROS.subarray(0, bytes));
    if (BIG_ENDIAN_HOST) buf.swap32();
    this.#before += this.#words.length;
    this.#pos = 0;
    if ((buf.byteOffset & 3) === 0) {
      this.#words = new Int32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
    } else {
      const s = this.#scratch ?? (this.#scratch = new Int32Array(MAX_PIECE_BYTES >>> 2));
      new Uint8Array(s.buffer, 0, buf.length).set(buf);
      this.#words = s.subarray(0, buf.length >>> 2);
    }
  }
}

/** Words per block of the optimistic (no-rejection) pass in `centredFromWords`. */
const BLOCK = 1024;

/**
 * Rejection-samples words w[p … p+n) into out[i …); returns the new write index.
 * Optimistic: each block of ≤ BLOCK words is first mapped branchlessly as if nothing were
 * rejected, while `acc` keeps the AND of all (v − P), whose sign bit stays set iff every
 * v < P. Only a block that contained a rejected word (≈ 0.4 % of blocks) is redone by the
 * exact branchy loop; the writes of the optimistic pass never leave out[i … i+n).
 */
function centredFromWords(w: Int32Array, p: number, n: number, out: Int32Array, i: number): number {
  const stop = p + n;
  while (p < stop) {
    const m = Math.min(BLOCK, stop - p);
    const d = i - p;
    const e = p + m;
    let acc = -1;
    for (let k = p; k < e; k++) {
      const v = w[k] & MASK21;
      acc &= v - P;
      out[k + d] = v - (P & ((HALF - v) >> 31)); // v > HALF → v − P
    }
    if (acc < 0) {
      i += m;
    } else {
      for (let k = p; k < e; k++) {
        const v = w[k] & MASK21;
        if (v < P) out[i++] = v - (P & ((HALF - v) >> 31));
      }
    }
    p = e;
  }
  return i;
}

function noiseF64(w: Int32Array, p: number, out: Float64Array, i: number, n: number): void {
  for (let k = 0; k < n; k++) out[i + k] = (w[p + k] >>> 8) * NOISE_STEP;
}

function noiseF32(w: Int32Array, p: number, out: Float32Array, i: number, n: number): void {
  for (let k = 0; k < n; k++) out[i + k] = (w[p + k] >>> 8) * NOISE_STEP;
}

function checkRange(size: number, offset: number, length: number): number {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new RangeError(`fill range [${offset}, ${offset}+${length}) outside an array of ${size}`);
  }
  return offset + length;
}

/**
 * Derives a 16-byte stream key from a 32-byte master secret (e.g. from the X25519 + HKDF
 * key exchange) and a purpose label:
 *
 *     key = HKDF-SHA256(ikm = master, salt = "" , info = "goten-ts/field/v1/" ‖ label, L = 16).
 *
 * Distinct labels give independent keys; use one label per (party set, purpose), e.g.
 * "mask-U", "share-A0", "noise". The label must be non-empty.
 */
export function deriveStreamKey(master: Uint8Array, label: string): Uint8Array {
  if (!(master instanceof Uint8Array) || master.length !== MASTER_KEY_BYTES) {
    throw new TypeError(`deriveStreamKey: master must be a Uint8Array of ${MASTER_KEY_BYTES} bytes`);
  }
  if (typeof label !== 'string' || label.length === 0) {
    throw new TypeError('deriveStreamKey: label must be a non-empty string');
  }
  const info = Buffer.from(`goten-ts/field/v1/${label}`, 'utf8');
  return new Uint8Array(hkdfSync('sha256', master, new Uint8Array(0), info, STREAM_KEY_BYTES));
}

/** The fields packed into a 64-bit stream id by `streamIdFor`. */
export interface StreamIdParts {
  /** Linear-op index in the model, 0 … 65535. */
  readonly op: number;
  /** Pass (e.g. 0 forward, 1 input gradient, 2 weight gradient), 0 … 255. */
  readonly pass: number;
  /** Invocation counter (training step / query number), 0 … 2^32 − 1. */
  readonly invocation: number;
  /** Free byte for the caller (e.g. which operand, or a retry number), 0 … 255. */
  readonly slot: number;
}

const ID_FIELDS: ReadonlyArray<readonly [keyof StreamIdParts, number, bigint]> = [
  ['op', 16, 48n],
  ['pass', 8, 40n],
  ['slot', 8, 32n],
  ['invocation', 32, 0n],
];

/**
 * Packs (op, pass, invocation, slot) into a 64-bit stream id:
 *
 *     id = op·2^48 + pass·2^40 + slot·2^32 + invocation
 *
 * (bits 63–48 op, 47–40 pass, 39–32 slot, 31–0 invocation). Distinct tuples give distinct
 * ids, hence non-overlapping keystreams under one key. Throws RangeError if a field is not
 * an integer in its range.
 */
export function streamIdFor(op: number, pass: number, invocation: number, slot = 0): bigint {
  const parts: StreamIdParts = { op, pass, invocation, slot };
  let id = 0n;
  for (const [name, bits, shift] of ID_FIELDS) {
    const v = parts[name];
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) {
      throw new RangeError(`streamIdFor: ${name} must be an integer in [0, 2^${bits}), got ${v}`);
    }
    id |= BigInt(v) << shift;
  }
  return id;
}

/** Inverse of `streamIdFor`. */
export function parseStreamId(id: bigint): StreamIdParts {
  if (typeof id !== 'bigint' || id < 0n || id > MAX_STREAM_ID) {
    throw new RangeError(`parseStreamId: id must be a bigint in [0, 2^64), got ${String(id)}`);
  }
  const f = (bits: number, shift: bigint): number => Number((id >> shift) & ((1n << BigInt(bits)) - 1n));
  return { op: f(16, 48n), pass: f(8, 40n), slot: f(8, 32n), invocation: f(32, 0n) };
}
