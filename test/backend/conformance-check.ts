/**
 * Comparison helpers for the conformance suite.
 *
 * Float32 tolerance. For an output c = Σ_{p<K} a_p·b_p (+ c0 when accumulating)
 * let S = Σ|a_p·b_p| (+ |c0|). We accept
 *
 *     |c_backend − c_ref| ≤ u·(1 + 2·√K)·S + 1e-30,      u = 2^−24,
 *
 * where c_ref is the float64 result on the same float32 inputs (its own error,
 * ≤ K·2^−53·S, is negligible). Justification: storing the result in float32
 * costs ≤ u·|c| ≤ u·S; a float32 accumulation adds one rounding of relative
 * size ≤ u per addition, each bounded by u·S. The worst case over adversarial
 * inputs is K·u·S, but rounding errors of random zero-mean inputs behave like a
 * random walk, ≈ √K·u·S at most, and blocked/FMA summation (BLAS) does better;
 * the factor 2 is margin. The js backend, which sums in float64, meets u·S.
 * Measured OpenBLAS sgemm errors on unit-scale data were ≤ 1.4e-6·√K, well
 * inside this bound.
 */
import assert from 'node:assert/strict';

export const U = 2 ** -24;

/** Allowed float32 error for one output with reduction length k and Σ|terms| = s. */
export function f32Tolerance(k: number, s: number): number {
  return U * (1 + 2 * Math.sqrt(Math.max(k, 1))) * s + 1e-30;
}

/** Asserts got[i] ≈ val[i] within f32Tolerance(k, abs[i]) for every i. */
export function assertF32Close(
  label: string,
  got: Float32Array,
  ref: { readonly val: ArrayLike<number>; readonly abs: ArrayLike<number> },
  k: number,
): void {
  assert.equal(got.length, ref.val.length, `${label}: output length`);
  let bad = 0;
  let first = -1;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - ref.val[i]);
    const tol = f32Tolerance(k, ref.abs[i]);
    if (!(err <= tol)) {
      if (first < 0) first = i;
      bad++;
    }
    if (tol > 0 && err / tol > worst) worst = err / tol;
  }
  if (bad > 0) {
    const i = first;
    assert.fail(
      `${label}: ${bad}/${got.length} outputs outside tolerance; first at [${i}]: got ${got[i]}, ` +
        `want ${ref.val[i]} ± ${f32Tolerance(k, ref.abs[i]).toExponential(2)} (K = ${k}, Σ|terms| = ${ref.abs[i]})`,
    );
  }
}

/** Asserts got equals want element for element (exact residues). */
export function assertExact(label: string, got: Int32Array, want: ArrayLike<number>): void {
  assert.equal(got.length, want.length, `${label}: output length`);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== want[i]) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    assert.fail(`${label}: ${bad}/${got.length} outputs wrong; first at [${first}]: got ${got[first]}, want ${want[first]}`);
  }
}
