/**
 * The field Z_P with P = 2^21 − 9 = 2 097 143, the largest prime below 2^21.
 *
 * Canonical form everywhere in the project is the *centred* representative in
 * [−HALF, HALF] with HALF = (P − 1) / 2 = 1 048 571. Centred operands keep
 * float64 products exact: |a·b| ≤ HALF² < 2^40, so a dot product of length
 * K ≤ MAX_EXACT_K = 8192 stays below 2^53 (8192 · HALF² = 0.99999 · 2^53).
 *
 * This module (with the rest of src/field) is the only place that knows the
 * representation; other modules call these helpers.
 */

/** The modulus. */
export const P = 2097143;
/** (P − 1) / 2: centred values lie in [−HALF, HALF]. */
export const HALF = 1048571;
/** Longest float64 dot product of centred values that is exact in the worst case. */
export const MAX_EXACT_K = 8192;
/** 1 / P as a double, for quotient estimation. */
export const INV_P = 1 / P;

/**
 * Centred reduction of an integer-valued double c with |c| ≤ 2^53.
 * q = floor(c/P + 1/2) is the nearest quotient up to an off-by-one when c/P is
 * within 2^−20 of a half-integer; r = c − q·P is exact (|q·P| < 2^53) and lies in
 * [−HALF − 1, HALF + 1] at worst, and the two corrections finish the job.
 * Exact (checked against BigInt) for every integer |c| ≤ 2^53.
 */
export function reduceCentred(c: number): number {
  let r = c - Math.floor(c * INV_P + 0.5) * P;
  if (r > HALF) r -= P;
  else if (r < -HALF) r += P;
  return r + 0; // + 0 turns a −0 (from c = −0) into 0
}

/** Centred sum of two centred values: branchless on int32. */
export function addCentred(a: number, b: number): number {
  let s = (a + b) | 0; // |s| ≤ 2·HALF < 2^21
  s -= P & ((HALF - s) >> 31); // s > HALF → s − P
  s += P & ((s + HALF) >> 31); // s < −HALF → s + P
  return s;
}

/** Centred difference of two centred values: branchless on int32. */
export function subCentred(a: number, b: number): number {
  return addCentred(a, -b);
}

/** True if v is a centred field element. */
export function isCentred(v: number): boolean {
  return Number.isInteger(v) && v >= -HALF && v <= HALF;
}
