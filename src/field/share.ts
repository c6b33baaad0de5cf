/**
 * Elementwise Z_P arithmetic on centred Int32Arrays and additive 2-of-2 sharing.
 *
 * Every array argument holds centred representatives in [−HALF, HALF] (see prime.ts) unless
 * stated otherwise; results are centred too. The loops are branchless int32 code: for
 * centred a, b the sum s = a + b lies in [−2·HALF, 2·HALF] ⊂ int32 and one of two masked
 * corrections brings it back,
 *
 *     s −= P & ((HALF − s) >> 31)    // s > HALF  → s − P
 *     s += P & ((s + HALF) >> 31)    // s < −HALF → s + P
 *
 * (x >> 31 is −1 for negative x and 0 otherwise). Inputs that are not centred give
 * unspecified (but int32) results; validate untrusted data with `isCentredArray` first.
 *
 * Output arrays may alias inputs (all ops are elementwise). Lengths must match exactly
 * (RangeError otherwise); pass `subarray` views to work on part of a buffer.
 */
import { HALF as HALF_, INV_P as INV_P_, P as P_ } from './prime.js';

// Module-local copies: under tsx, imported bindings compile to getters that are ~20× slower
// inside hot loops than a local const.
const P = P_;
const HALF = HALF_;
const INV_P = INV_P_;

function sameLength(what: string, n: number, ...arrays: ArrayLike<number>[]): void {
  for (const a of arrays) {
    if (a.length !== n) throw new RangeError(`${what}: length mismatch (${a.length} vs ${n})`);
  }
}

/** out[i] = a[i] + b[i] mod P (centred). Returns out. */
export function addModP(a: Int32Array, b: Int32Array, out: Int32Array): Int32Array {
  const n = out.length;
  sameLength('addModP', n, a, b);
  for (let i = 0; i < n; i++) {
    let s = a[i] + b[i];
    s -= P & ((HALF - s) >> 31);
    s += P & ((s + HALF) >> 31);
    out[i] = s;
  }
  return out;
}

/** out[i] = a[i] − b[i] mod P (centred). Returns out. */
export function subModP(a: Int32Array, b: Int32Array, out: Int32Array): Int32Array {
  const n = out.length;
  sameLength('subModP', n, a, b);
  for (let i = 0; i < n; i++) {
    let s = a[i] - b[i];
    s -= P & ((HALF - s) >> 31);
    s += P & ((s + HALF) >> 31);
    out[i] = s;
  }
  return out;
}

/** out[i] = −a[i] mod P (centred; exact, since the centred range is symmetric). Returns out. */
export function negModP(a: Int32Array, out: Int32Array): Int32Array {
  const n = out.length;
  sameLength('negModP', n, a);
  for (let i = 0; i < n; i++) out[i] = -a[i] | 0;
  return out;
}

/**
 * Additive 2-of-2 sharing of x with the random half r: writes out1 = x − r mod P, so that
 * x = r + out1 (mod P). If r is uniform on Z_P and independent of x, each half alone is
 * uniform and independent of x. Typically r comes from a `FieldStream` both holders of r
 * can regenerate. Returns out1.
 */
export function share(x: Int32Array, r: Int32Array, out1: Int32Array): Int32Array {
  return subModP(x, r, out1);
}

/** Inverse of `share`: out[i] = a[i] + b[i] mod P. Returns out. */
export function reconstruct(a: Int32Array, b: Int32Array, out: Int32Array): Int32Array {
  return addModP(a, b, out);
}

/** Elements per block in `sumModP` (keeps the running sum in L1 while the inputs stream by). */
const SUM_BLOCK = 2048;

/**
 * out[i] = Σ_k inputs[k][i] mod P (centred), for one or more inputs — e.g. the
 * reconstruction C = C0' + C1' + Z' + CM0 + CM1 + CMZ. Works in cache-sized blocks, one
 * branchless centred addition per input. `out` may alias one of the inputs only if it is
 * inputs[0]. Returns out.
 */
export function sumModP(inputs: readonly Int32Array[], out: Int32Array): Int32Array {
  const n = out.length;
  if (inputs.length === 0) throw new RangeError('sumModP: needs at least one input');
  sameLength('sumModP', n, ...inputs);
  for (let k = 1; k < inputs.length; k++) {
    if (inputs[k] === out) throw new RangeError('sumModP: out may alias only inputs[0]');
  }
  for (let start = 0; start < n; start += SUM_BLOCK) {
    const end = Math.min(n, start + SUM_BLOCK);
    const first = inputs[0];
    if (first !== out) out.set(first.subarray(start, end), start);
    for (let k = 1; k < inputs.length; k++) accumulate(inputs[k], out, start, end);
  }
  return out;
}

function accumulate(a: Int32Array, out: Int32Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    let s = out[i] + a[i];
    s -= P & ((HALF - s) >> 31);
    s += P & ((s + HALF) >> 31);
    out[i] = s;
  }
}

/**
 * Centred reduction of integer-valued doubles, out[i] = src[i] mod P, for |src[i]| ≤ 2^53
 * (e.g. float64 GEMM accumulators). Same quotient estimate as `reduceCentred` in prime.ts,
 * q = floor(c/P + 1/2), whose residue c − q·P is exact and within [−HALF − 1, HALF + 1]; the
 * final corrections are branchless int32. Non-integer or larger inputs give unspecified
 * results. Returns out.
 */
export function reduceInto(src: Float64Array, out: Int32Array): Int32Array {
  const n = out.length;
  sameLength('reduceInto', n, src);
  for (let i = 0; i < n; i++) {
    const c = src[i];
    let s = (c - Math.floor(c * INV_P + 0.5) * P) | 0;
    s -= P & ((HALF - s) >> 31);
    s += P & ((s + HALF) >> 31);
    out[i] = s;
  }
  return out;
}

/**
 * True iff every a[i] is a centred field element (−HALF ≤ a[i] ≤ HALF). Branchless: ORs the
 * two differences HALF − v and v + HALF, whose sign bit is set iff v is out of range. Use it
 * on every Int32 tensor received from an untrusted party before computing with it.
 */
export function isCentredArray(a: Int32Array): boolean {
  let bad = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    bad |= (HALF - v) | (v + HALF);
  }
  return bad >= 0;
}

/**
 * Number of i with |a[i]| > bound, for centred a and 0 ≤ bound ≤ HALF. This is the guard-band
 * check for silent wrap-around: if the true integer result is known to satisfy |c| ≤ bound,
 * any reconstructed element beyond it has wrapped mod P.
 */
export function countBeyond(a: Int32Array, bound: number): number {
  if (!Number.isInteger(bound) || bound < 0 || bound > HALF) {
    throw new RangeError(`countBeyond: bound must be an integer in [0, ${HALF}], got ${bound}`);
  }
  let neg = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    neg += ((bound - v) >> 31) + ((v + bound) >> 31); // −1 for each side exceeded
  }
  return 0 - neg; // not -neg, which would be −0 for no hits
}
