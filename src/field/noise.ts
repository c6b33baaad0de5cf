/**
 * Counter-based stochastic-rounding noise (docs/protocol.md, "Rounding noise").
 *
 * A noise stream is identified, like a `FieldStream`, by a 16-byte key and a 64-bit stream
 * id. Unlike the masks it needs reproducibility, not secrecy: every quantized value is
 * one-time padded by a mask before it leaves the enclave, so no worker sees anything that
 * depends on the noise except through a uniform pad. It therefore comes from a cheap keyed
 * hash of the element index instead of an AES-CTR keystream:
 *
 *     (k0, k1) = the first two little-endian uint32 words of AES-128_key(streamId (8 bytes BE) ‖ 0^8)
 *                (= the first two words of FieldStream(key, streamId): one AES block per stream)
 *     w_i      = mix(mix(i + k0 mod 2^32) ⊕ k1)                 for element index i < 2^32
 *     g_i      = (w_i >>> 8) · 2^−24                             ∈ {0, 2^−24, …, 1 − 2^−24}
 *
 * with mix the "lowbias32" integer hash (C. Wellons, hash-prospector):
 *
 *     x ^= x >>> 16;  x *= 0x7feb352d;  x ^= x >>> 15;  x *= 0x846ca68b;  x ^= x >>> 16   (mod 2^32)
 *
 * Every step is a bijection of 32-bit words (xor-shifts, odd multipliers, xor and add of
 * constants), so for a fixed stream i ↦ w_i is a permutation of [0, 2^32): over the full
 * counter range every 24-bit grid value occurs exactly 256 times, i.e. g is exactly uniform
 * on the grid, and a stream of n ≪ 2^32 values is a sample without replacement whose
 * deviation from independent draws is of order n/2^32. The per-stream pair (k0, k1) is an
 * AES output, so distinct (key, id) give independent-looking 64-bit stream keys; k1, xored
 * between the two mixing rounds, keeps two streams whose offsets k0 happen to be close from
 * being shifted copies of each other. g depends only on (key, id, i), never on the data.
 *
 * The native kernels (native/src/noise_stream.cc) compute the same words, 16 or 8 lanes at
 * a time; test/field/noise.test.ts pins them to this reference and checks the statistics.
 * Random access: `seek(i)` positions the stream at element i (reads advance it).
 */
import { createCipheriv } from 'node:crypto';
import { STREAM_KEY_BYTES } from './prg.js';

/** 2^−24: the noise grid step. */
const NOISE_STEP = 1 / 16777216;
/** Elements per stream: the counter is 32 bits. */
export const NOISE_STREAM_LENGTH = 2 ** 32;
const MAX_STREAM_ID = (1n << 64n) - 1n;

/** The "lowbias32" mixer on a 32-bit pattern (int32 in, int32 out). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16);
}

/** The per-stream keys (k0, k1) of noise stream (key, streamId) as uint32. */
export function noiseStreamKeys(key: Uint8Array, streamId: bigint): [number, number] {
  if (!(key instanceof Uint8Array) || key.length !== STREAM_KEY_BYTES) {
    throw new TypeError(`NoiseStream key must be a Uint8Array of ${STREAM_KEY_BYTES} bytes`);
  }
  if (typeof streamId !== 'bigint' || streamId < 0n || streamId > MAX_STREAM_ID) {
    throw new RangeError(`NoiseStream id must be a bigint in [0, 2^64), got ${String(streamId)}`);
  }
  const block = Buffer.alloc(16);
  block.writeBigUInt64BE(streamId, 0);
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  const out = c.update(block);
  return [out.readUInt32LE(0), out.readUInt32LE(4)];
}

/** Raw noise word w_i (uint32) of the stream with keys (k0, k1). */
export function noiseWord(k0: number, k1: number, i: number): number {
  return mix32(mix32((i + k0) | 0) ^ k1) >>> 0;
}

/** A counter-based noise stream (see the module comment). */
export class NoiseStream {
  readonly streamId: bigint;
  readonly #k0: number;
  readonly #k1: number;
  #pos = 0;

  private constructor(key: Uint8Array, streamId: bigint) {
    [this.#k0, this.#k1] = noiseStreamKeys(key, streamId);
    this.streamId = streamId;
  }

  /** Opens noise stream `streamId` under a 16-byte key, positioned at element 0. */
  static open(key: Uint8Array, streamId: bigint): NoiseStream {
    return new NoiseStream(key, streamId);
  }

  /** Index of the next element to be read. */
  get position(): number {
    return this.#pos;
  }

  /** Positions the stream at element i (0 ≤ i ≤ 2^32). Returns this. */
  seek(i: number): this {
    if (!Number.isInteger(i) || i < 0 || i > NOISE_STREAM_LENGTH) throw new RangeError(`NoiseStream.seek: ${i} outside [0, 2^32]`);
    this.#pos = i;
    return this;
  }

  /** Writes the next `length` noise values g ∈ [0, 1) into out[offset … offset + length). Returns out. */
  fillNoise<T extends Float64Array | Float32Array>(out: T, offset = 0, length = out.length - offset): T {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > out.length) {
      throw new RangeError(`fill range [${offset}, ${offset}+${length}) outside an array of ${out.length}`);
    }
    if (this.#pos + length > NOISE_STREAM_LENGTH) throw new RangeError('NoiseStream: more than 2^32 elements');
    fill(this.#k0 + this.#pos, this.#k1, out, offset, length);
    this.#pos += length;
    return out;
  }
}

// mix32 inlined by hand: under tsx, calls through module bindings are far slower in hot loops.
// (Callers on the hot path pass Float64Arrays; a Float32Array only makes the site bimorphic.)
function fill(base: number, k1: number, out: Float64Array | Float32Array, offset: number, n: number): void {
  for (let k = 0; k < n; k++) {
    let x = (base + k) | 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b);
    x ^= (x >>> 16) ^ k1;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b);
    x ^= x >>> 16;
    out[offset + k] = (x >>> 8) * NOISE_STEP;
  }
}
