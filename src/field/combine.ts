/**
 * Fused three-term combinations used by the workers and the enclave's share
 * generation. Same branchless centred corrections as share.ts, one pass each.
 */
import { HALF as HALF_, INV_P as INV_P_, P as P_ } from './prime.js';

const P = P_;
const HALF = HALF_;
const INV_P = INV_P_;

/** out[i] = p[i] + q[i] − r[i] mod P (centred). |p + q − r| ≤ 3·HALF: one nearest-quotient step. */
export function addSubModP(p: Int32Array, q: Int32Array, r: Int32Array, out: Int32Array): Int32Array {
  const n = out.length;
  if (p.length !== n || q.length !== n || r.length !== n) {
    throw new RangeError(`addSubModP: length mismatch (${p.length}, ${q.length}, ${r.length} vs ${n})`);
  }
  for (let i = 0; i < n; i++) {
    const s = p[i] + q[i] - r[i];
    out[i] = s - Math.floor(s * INV_P + 0.5) * P;
  }
  return out;
}

/**
 * The enclave's masking sweep for one operand (docs/protocol.md, the steps of one op: step 3), fused:
 *   e[i]  = q[i] − u[i]   mod P   (masked operand, sent to workers 0 and 1)
 *   s1[i] = q[i] − s0[i]  mod P   (worker 1's share; skipped when s1 is null)
 */
export function maskAndShare(q: Int32Array, u: Int32Array, s0: Int32Array | null, e: Int32Array, s1: Int32Array | null): void {
  const n = q.length;
  if (u.length !== n || e.length !== n || (s0 && s0.length !== n) || (s1 && s1.length !== n)) {
    throw new RangeError('maskAndShare: length mismatch');
  }
  for (let i = 0; i < n; i++) {
    let d = q[i] - u[i];
    d -= P & ((HALF - d) >> 31);
    d += P & ((d + HALF) >> 31);
    e[i] = d;
  }
  if (s0 && s1) {
    for (let i = 0; i < n; i++) {
      let d = q[i] - s0[i];
      d -= P & ((HALF - d) >> 31);
      d += P & ((d + HALF) >> 31);
      s1[i] = d;
    }
  }
}
