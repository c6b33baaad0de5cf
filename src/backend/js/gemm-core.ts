/**
 * The float64 GEMM engine behind both js GEMMs (and the convolutions):
 *
 *   ACC[m×n] += op(A)·op(B)
 *
 * op(A) is m×k (stored k×m when transA), op(B) is k×n (stored n×k when transB).
 * Operands of any numeric typed array are widened to float64 while packing, so
 * every product a·b and every partial sum is a float64 operation.
 *
 * Blocking (Goto/BLIS style, sized for a JS engine rather than for registers):
 *   for jc in n by NC:            B block: KC×NC, packed into 4-column micro-panels
 *     for pc in k by KC:
 *       for ic in m by MC:        A block: MC×KC, packed into 4-row micro-panels
 *         for each 4×4 tile:      16 scalar accumulators over the KC terms
 * Micro-panels are zero-padded to multiples of 4, and ACC is (m rounded up to 4)
 * × (n rounded up to 4) with leading dimension `ld`, so the inner kernel has no
 * edge cases; the padding rows/columns of ACC only ever receive 0·x.
 *
 * Mod-P exactness: for centred operands |a|,|b| ≤ HALF, each product is an
 * integer below HALF² < 2^40 and exact. If ACC starts from centred values
 * (|acc| ≤ HALF) and receives at most MAX_EXACT_K = 8192 products before it is
 * reduced again, every partial sum is an integer of magnitude at most
 * HALF + 8192·HALF² = 2^53 − 85 899 141 120 + HALF < 2^53, hence exact whatever
 * the summation order. gemmAccumulate enforces that: ACC (the current column
 * block) is reduced to centred values whenever the next K block would push the
 * count of terms since the last reduction past the limit.
 */
import { MAX_EXACT_K, reduceCentred } from '../../field/prime.js';
import type { Scratch } from './scratch.js';

export type Operand = Float32Array | Float64Array | Int32Array;

/** Register tile: 4 rows × 4 columns. */
export const MR = 4;
export const NR = 4;
/** Cache blocks (elements). KC ≤ MAX_EXACT_K, so one K block never breaks exactness. */
export const KC = 256;
export const MC = 64;
export const NC = 512;
if (KC > MAX_EXACT_K) throw new Error('gemm-core: KC must not exceed MAX_EXACT_K');

export interface GemmDims {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transA: boolean;
  readonly transB: boolean;
}

/** Rounds up to a multiple of 4. */
export function pad4(x: number): number {
  return (x + 3) & ~3;
}

/**
 * Packs rows [i0, i0+mb) × columns [p0, p0+kb) of op(A) into `ap`:
 * ap[(ib·kb + p)·4 + r] = op(A)[i0 + 4·ib + r, p0 + p], zero for rows ≥ m.
 */
function packA(d: GemmDims, a: Operand, aOff: number, i0: number, mb: number, p0: number, kb: number, ap: Float64Array): void {
  const { m, k } = d;
  const panels = (mb + 3) >> 2;
  for (let ib = 0; ib < panels; ib++) {
    const base = ib * kb * MR;
    for (let r = 0; r < MR; r++) {
      const i = i0 + ib * MR + r;
      let o = base + r;
      if (i >= i0 + mb) {
        for (let p = 0; p < kb; p++, o += MR) ap[o] = 0;
      } else if (d.transA) {
        // stored k×m: op(A)[i,p] = A[p·m + i]
        let s = aOff + p0 * m + i;
        for (let p = 0; p < kb; p++, o += MR, s += m) ap[o] = a[s];
      } else {
        // stored m×k: op(A)[i,p] = A[i·k + p]
        let s = aOff + i * k + p0;
        for (let p = 0; p < kb; p++, o += MR) ap[o] = a[s++];
      }
    }
  }
}

/**
 * Packs rows [p0, p0+kb) × columns [j0, j0+nb) of op(B) into `bp`:
 * bp[(jb·kb + p)·4 + c] = op(B)[p0 + p, j0 + 4·jb + c], zero for columns ≥ j0+nb.
 */
function packB(d: GemmDims, b: Operand, bOff: number, p0: number, kb: number, j0: number, nb: number, bp: Float64Array): void {
  const { k, n } = d;
  const panels = (nb + 3) >> 2;
  for (let jb = 0; jb < panels; jb++) {
    const base = jb * kb * NR;
    for (let c = 0; c < NR; c++) {
      const j = j0 + jb * NR + c;
      let o = base + c;
      if (j >= j0 + nb) {
        for (let p = 0; p < kb; p++, o += NR) bp[o] = 0;
      } else if (d.transB) {
        // stored n×k: op(B)[p,j] = B[j·k + p]
        let s = bOff + j * k + p0;
        for (let p = 0; p < kb; p++, o += NR) bp[o] = b[s++];
      } else {
        // stored k×n: op(B)[p,j] = B[p·n + j]
        let s = bOff + p0 * n + j;
        for (let p = 0; p < kb; p++, o += NR, s += n) bp[o] = b[s];
      }
    }
  }
}

/**
 * ACC[i0.., j0..] += Ap·Bp for packed blocks of `mPanels`×`nPanels` 4×4 tiles
 * over kb terms. Sixteen scalar accumulators per tile; V8 keeps most of them in
 * registers.
 */
function kernel(
  ap: Float64Array,
  bp: Float64Array,
  mPanels: number,
  nPanels: number,
  kb: number,
  acc: Float64Array,
  ld: number,
  i0: number,
  j0: number,
): void {
  for (let jb = 0; jb < nPanels; jb++) {
    const bBase = jb * kb * NR;
    for (let ib = 0; ib < mPanels; ib++) {
      let ai = ib * kb * MR;
      let bi = bBase;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < kb; p++) {
        const a0 = ap[ai], a1 = ap[ai + 1], a2 = ap[ai + 2], a3 = ap[ai + 3];
        const b0 = bp[bi], b1 = bp[bi + 1], b2 = bp[bi + 2], b3 = bp[bi + 3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        ai += MR;
        bi += NR;
      }
      let o = (i0 + ib * MR) * ld + j0 + jb * NR;
      acc[o] += c00; acc[o + 1] += c01; acc[o + 2] += c02; acc[o + 3] += c03;
      o += ld;
      acc[o] += c10; acc[o + 1] += c11; acc[o + 2] += c12; acc[o + 3] += c13;
      o += ld;
      acc[o] += c20; acc[o + 1] += c21; acc[o + 2] += c22; acc[o + 3] += c23;
      o += ld;
      acc[o] += c30; acc[o + 1] += c31; acc[o + 2] += c32; acc[o + 3] += c33;
    }
  }
}

/** Centred mod-P reduction of ACC rows [0, m) × columns [j0, j0+nb). */
function reduceBlock(acc: Float64Array, ld: number, m: number, j0: number, nb: number): void {
  for (let i = 0; i < m; i++) {
    const row = i * ld + j0;
    for (let j = 0; j < nb; j++) acc[row + j] = reduceCentred(acc[row + j]);
  }
}

/**
 * ACC (ld = pad4(n), at least pad4(m) rows) += op(A)·op(B).
 * With `modP`, ACC must hold centred values on entry and holds centred values
 * on return (see the header for the exactness argument); K may be any length.
 */
export function gemmAccumulate(
  scratch: Scratch,
  d: GemmDims,
  a: Operand,
  aOff: number,
  b: Operand,
  bOff: number,
  acc: Float64Array,
  modP: boolean,
): void {
  const { m, k, n } = d;
  if (m === 0 || n === 0 || k === 0) return;
  const ld = pad4(n);
  const kcMax = Math.min(KC, k);
  const ap = scratch.f64('gemm.ap', pad4(Math.min(MC, m)) * kcMax);
  const bp = scratch.f64('gemm.bp', pad4(Math.min(NC, n)) * kcMax);
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nb = Math.min(NC, n - j0);
    let sinceReduce = 0; // products added to ACC since it last held centred values
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kb = Math.min(KC, k - p0);
      if (modP && sinceReduce + kb > MAX_EXACT_K) {
        reduceBlock(acc, ld, m, j0, nb);
        sinceReduce = 0;
      }
      packB(d, b, bOff, p0, kb, j0, nb, bp);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mb = Math.min(MC, m - i0);
        packA(d, a, aOff, i0, mb, p0, kb, ap);
        kernel(ap, bp, (mb + 3) >> 2, (nb + 3) >> 2, kb, acc, ld, i0, j0);
      }
      sinceReduce += kb;
    }
    if (modP) reduceBlock(acc, ld, m, j0, nb);
  }
}

/**
 * C[cOff + i·n + j] (=|+=) op(A)·op(B) through a padded float64 accumulator:
 * C is loaded into ACC (or ACC zeroed), gemmAccumulate adds the product, and
 * ACC is stored back — rounded once to float32, or as the centred residues
 * gemmAccumulate leaves with `modP`. No argument checks (callers validate).
 */
export function gemmViaAccumulator(
  scratch: Scratch,
  d: GemmDims,
  a: Operand,
  aOff: number,
  b: Operand,
  bOff: number,
  c: Float32Array | Int32Array,
  cOff: number,
  accumulate: boolean,
  modP: boolean,
): void {
  const { m, n } = d;
  const ld = pad4(n);
  const acc = scratch.f64('gemm.acc', pad4(m) * ld);
  if (accumulate) {
    for (let i = 0; i < m; i++) {
      const src = cOff + i * n;
      const dst = i * ld;
      for (let j = 0; j < n; j++) acc[dst + j] = c[src + j];
    }
  } else {
    acc.fill(0, 0, pad4(m) * ld);
  }
  gemmAccumulate(scratch, d, a, aOff, b, bOff, acc, modP);
  for (let i = 0; i < m; i++) {
    const src = i * ld;
    const dst = cOff + i * n;
    for (let j = 0; j < n; j++) c[dst + j] = acc[src + j];
  }
}
