/**
 * The packed wire form of field elements: 3 bytes per element instead of 4.
 *
 * A centred element v ∈ [−HALF, HALF] (|v| < 2^20) is its 24-bit two's complement,
 * little-endian:
 *
 *     bytes  b0 = v & 0xFF,  b1 = (v >> 8) & 0xFF,  b2 = (v >> 16) & 0xFF
 *     back   v  = ((b0 | b1 << 8 | b2 << 16) << 8) >> 8        (sign-extend bit 23)
 *
 * Any 3 bytes decode to some int in [−2^23, 2^23); untrusted input is valid only when
 * every decoded value is centred, which `unpackCentred24` checks on the way.
 * These loops are the reference of the native kernels (src/protocol/enclave-kernels.ts),
 * which fuse packing into the passes that produce and consume the elements.
 */
import { HALF as HALF_ } from './prime.js';

const HALF = HALF_;

/** Bytes of n packed elements. */
export function packedBytes(n: number): number {
  return 3 * n;
}

/** dst (3·n bytes) ← the packed form of the n centred elements of src. Returns dst. */
export function packCentred24(src: Int32Array, dst: Uint8Array): Uint8Array {
  const n = src.length;
  if (dst.length !== 3 * n) throw new RangeError(`packCentred24: ${dst.length} bytes for ${n} elements (need ${3 * n})`);
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const v = src[i];
    dst[o] = v;
    dst[o + 1] = v >> 8;
    dst[o + 2] = v >> 16;
  }
  return dst;
}

/**
 * dst (n elements) ← the elements packed in src (3·n bytes). Returns false (dst then holds
 * the decoded values, some outside the range) when some value is not centred.
 */
export function unpackCentred24(src: Uint8Array, dst: Int32Array): boolean {
  const n = dst.length;
  if (src.length !== 3 * n) throw new RangeError(`unpackCentred24: ${src.length} bytes for ${n} elements (need ${3 * n})`);
  let bad = 0; // sign bit set iff some HALF − v or v + HALF is negative
  for (let i = 0, o = 0; i < n; i++, o += 3) {
    const v = ((src[o] | (src[o + 1] << 8) | (src[o + 2] << 16)) << 8) >> 8;
    dst[i] = v;
    bad |= (HALF - v) | (v + HALF);
  }
  return bad >= 0;
}
