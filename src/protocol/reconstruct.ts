/**
 * Reconstruction, wrap-around guard and dequantization of one linear op's
 * result — shared by the quantized reference and the secure protocol, so both
 * decide overflow the same way and produce bit-identical outputs.
 *
 *   C   = centre(Σ_j parts_j)  mod P            (parts are centred Int32)
 *   out = C · 2^(eA + eB − 12)                  (exact: |C| < 2^21, power-of-two scale)
 *
 * Wrap-around guard. The plaintext product of 8-bit operands is bounded by
 * K·2^14, which exceeds HALF for K > 63, so a true result outside [−HALF, HALF]
 * would silently come back as its residue. We flag any op whose reconstructed
 * magnitude reaches the guard band |C| ≥ GUARD = 2^19 ≈ HALF/2: a true value in
 * (GUARD, P − GUARD) can only be reconstructed inside the band, so magnitudes
 * growing towards the wrap point are caught before they wrap. The caller then
 * re-runs the op with more headroom (fewer quantization bits, see
 * quantized-executor.ts) and counts the event. A silent wrap would need a single
 * op whose true values jump past P − GUARD with no element inside the band.
 */
import { INV_P as INV_P_, P as P_ } from '../field/prime.js';
import { pow2 } from '../field/quantize.js';

// local copies: imported bindings are slow getters inside hot loops under tsx
const P = P_;
const INV_P = INV_P_;

/** Reconstructed magnitudes at or above this are treated as (possible) wrap-around. */
export const GUARD = 1 << 19;

export interface ReconstructResult {
  /** max |C| over the tensor. */
  readonly maxAbs: number;
  /** True when maxAbs ≥ GUARD: the caller must retry with more headroom. */
  readonly flagged: boolean;
}

/** Shared all-zero stand-in for absent parts (never written). */
let ZERO = new Int32Array(0);

/**
 * out[i] = centre(Σ_j parts[j][i]) · 2^scaleExp, in one pass. Takes 1 to 6 centred
 * parts (|Σ| ≤ 6·HALF < 2^23, exact in int32 and float64).
 */
export function reconstructDequantize(parts: readonly Int32Array[], scaleExp: number, out: Float32Array): ReconstructResult {
  const n = out.length;
  for (const p of parts) {
    if (p.length !== n) throw new RangeError(`reconstruct: part has ${p.length} elements, output ${n}`);
  }
  if (parts.length === 0 || parts.length > 6) throw new RangeError(`reconstruct: 1 to 6 parts, got ${parts.length}`);
  const scale = pow2(scaleExp);
  let max = 0;
  const zero = ZERO.length >= n ? ZERO : (ZERO = new Int32Array(n));
  const [p0, p1 = zero, p2 = zero, p3 = zero, p4 = zero, p5 = zero] = parts;
  for (let i = 0; i < n; i++) {
    const s = p0[i] + p1[i] + p2[i] + p3[i] + p4[i] + p5[i];
    // nearest-quotient reduction: s/P is never within 2^-22 of a half-integer
    // for integer s (P odd), so floor(s/P + 1/2) is exact and r ∈ [−HALF, HALF]
    const r = s - Math.floor(s * INV_P + 0.5) * P;
    out[i] = r * scale;
    const a = r < 0 ? -r : r;
    if (a > max) max = a;
  }
  return { maxAbs: max, flagged: max >= GUARD };
}
