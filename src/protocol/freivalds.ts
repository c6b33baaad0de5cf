/**
 * Freivalds-style projections of the six bilinear ops (backend/bilinear.ts), exact over Z_P: a claimed
 * result C of C = f(A, B) is checked by comparing two cheap projections, one per column j = 1…k of
 * random field elements R,
 *
 *   projectResult(C, R) == projectProduct(A, B, R)
 *
 * Both sides are computed with the backend's exact mod-P kernels on centred Int32 operands, so the
 * comparison is exact. What a column holds and what it compares (N images, O output and C input channels,
 * L output and HW input pixels, δ a kernel tap, kk = kH·kW):
 *
 *   linear forward      C = X·Wᵀ (B×out)  r: out         C·r                    == X·(Wᵀ·r)
 *   linear grad-input   C = dY·W (B×in)   r: in          C·r                    == dY·(W·r)
 *   linear grad-weight  C = dYᵀ·X         r: in          C·r                    == dYᵀ·(X·r)
 *   conv forward        C = conv(X, W)    s: N, r: O     Σ_n,o s_n r_o C[n,o,·]  == conv(Σ_n s_n X_n, Σ_o r_o W_o)
 *   conv grad-input     C = dX            s: N, r: C     Σ_n,c s_n r_c dX[n,c,·] == convGradInput(Σ_n s_n dY_n, Σ_c r_c W[·,c])
 *   conv grad-weight    C = dW            ρ: C, σ: kk    Σ_c,δ dW[·,c,δ] ρ_c σ_δ == Σ_n,p dY[n,·,p] u[n,p],
 *                                                        u = conv(Σ_c ρ_c X[·,c], σ)  (one channel, one filter)
 *
 * Each identity is linearity of the op in the projected operand (conv is linear in the image and in the
 * filter; the weight gradient sums products over images and pixels). The conv checks project on two sides
 * at once, so every right side is one pass over each operand plus a one-image (or one-channel) op, never
 * an im2col of the whole batch.
 *
 * Soundness, for D = C − f(A, B) ≠ 0: linear — the column passes only when r lies in the kernel of a
 * nonzero linear map, probability ≤ 1/P for r uniform. Conv — some output pixel's slice D_p (N×O, N×C)
 * or row D_o (over (c, δ)) is nonzero, and the column compares sᵀ·D_p·r (or D_o·(ρ⊗σ)), a nonzero
 * polynomial of degree 2 in the uniform column: zero with probability ≤ 2/P (Schwartz–Zippel). k
 * independent columns pass together with probability ≤ (2/P)^k.
 */
import type { Backend } from '../backend/backend.js';
import { type BilinearOp, bilinearSizes } from '../backend/bilinear.js';
import { reduceCentred } from '../field/prime.js';
import { type ConvGeometry, convOutH, convOutW } from '../tensor/geometry.js';
import type { Int32Buffers } from './managed-buffers.js';

/** Fresh arrays: for callers without a pool (tests, one-off checks). */
export const FRESH_INT32: Int32Buffers = { int32: (_name, n) => new Int32Array(n) };

/** A 1×1, stride-1, unpadded conv: a per-pixel matrix product over channels. */
function pointwise(batch: number, inC: number, h: number, w: number, outC: number): ConvGeometry {
  return { batch, inC, inH: h, inW: w, outC, kH: 1, kW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0 };
}

/** The two parts of a conv column, as k-row blocks: [first (k × n1) | second (k × n2)]. */
function convParts(op: Extract<BilinearOp, { layer: 'conv' }>): [number, number] {
  const g = op.geom;
  if (op.pass === 'forward') return [g.batch, g.outC];
  if (op.pass === 'grad-input') return [g.batch, g.inC];
  return [g.inC, g.kH * g.kW];
}

/** Field elements per column of R (R holds this × k, layout in `projectionRandomness`'s doc). */
export function projectionRandomness(op: BilinearOp): number {
  if (op.layer === 'linear') return op.pass === 'forward' ? op.geom.outF : op.geom.inF;
  const [n1, n2] = convParts(op);
  return n1 + n2;
}

/** Elements of either side of the projection. */
export function projectionSize(op: BilinearOp, k: number): number {
  if (op.layer === 'linear') {
    const { batch, outF } = op.geom;
    return (op.pass === 'grad-weight' ? outF : batch) * k;
  }
  const g = op.geom;
  switch (op.pass) {
    case 'forward':
      return k * convOutH(g) * convOutW(g);
    case 'grad-input':
      return k * g.inH * g.inW;
    case 'grad-weight':
      return g.outC * k;
  }
}

/**
 * R split by role. Linear: R is rows × k (column j of the table is R[·, j]). Conv: R = [P1 | P2] with
 * P1 = k × n1 and P2 = k × n2 row-major (row j of each is column j's part: s and r, or ρ and σ).
 */
function splitR(op: BilinearOp, r: Int32Array, k: number): [Int32Array, Int32Array] {
  if (!Number.isInteger(k) || k < 1 || r.length !== projectionRandomness(op) * k) {
    throw new RangeError(`projection: R must hold ${projectionRandomness(op)} × ${k} elements, got ${r.length}`);
  }
  if (op.layer === 'linear') return [r, r];
  const n1 = convParts(op)[0];
  return [r.subarray(0, k * n1), r.subarray(k * n1)];
}

/** Grad-weight's projection of dW's rows: V (k × C·kk), V[j, c·kk + δ] = ρ_j[c]·σ_j[δ] mod P (products < 2^40: exact). */
function outerRows(rho: Int32Array, sigma: Int32Array, k: number, inC: number, kk: number, v: Int32Array): Int32Array {
  for (let j = 0; j < k; j++)
    for (let c = 0; c < inC; c++) {
      const rc = rho[j * inC + c];
      for (let d = 0; d < kk; d++) v[(j * inC + c) * kk + d] = reduceCentred(rc * sigma[j * kk + d]);
    }
  return v;
}

/** The left side: C projected by R (the table above), written to and returning `out`. */
export function projectResult(be: Backend, op: BilinearOp, c: Int32Array, r: Int32Array, k: number, out: Int32Array, scratch: Int32Buffers = FRESH_INT32): Int32Array {
  const [p1, p2] = splitR(op, r, k);
  if (c.length !== bilinearSizes(op).c || out.length !== projectionSize(op, k)) throw new RangeError('projectResult: size mismatch');
  if (op.layer === 'linear') {
    const { batch, inF, outF } = op.geom;
    const m = op.pass === 'grad-weight' ? outF : batch;
    const inner = op.pass === 'forward' ? outF : inF;
    be.gemmModP({ m, k: inner, n: k }, c, r, out);
    return out;
  }
  const g = op.geom;
  if (op.pass === 'grad-weight') {
    const kk = g.kH * g.kW;
    const v = outerRows(p1, p2, k, g.inC, kk, scratch.int32('v.w', k * g.inC * kk));
    be.gemmModP({ m: g.outC, k: g.inC * kk, n: k, transB: true }, c, v, out);
    return out;
  }
  // forward / grad-input: Cs = S·C (k × channels·plane), then row j of the output = r_j · Cs_j
  const channels = p2.length / k;
  const plane = out.length / k;
  const cs = scratch.int32('v.s', k * channels * plane);
  be.gemmModP({ m: k, k: g.batch, n: channels * plane }, p1, c, cs);
  for (let j = 0; j < k; j++) {
    be.gemmModP({ m: 1, k: channels, n: plane }, p2.subarray(j * channels, (j + 1) * channels), cs.subarray(j * channels * plane, (j + 1) * channels * plane), out.subarray(j * plane, (j + 1) * plane));
  }
  return out;
}

/**
 * The right side: f(A, B) projected by R without forming f(A, B), written to and returning `out`
 * (intermediates from `scratch`: 'v.t', 'v.s', 'v.w', 'v.u').
 */
export function projectProduct(
  be: Backend,
  op: BilinearOp,
  a: Int32Array,
  b: Int32Array,
  r: Int32Array,
  k: number,
  out: Int32Array,
  scratch: Int32Buffers = FRESH_INT32,
): Int32Array {
  const [p1, p2] = splitR(op, r, k);
  const sz = bilinearSizes(op);
  if (a.length !== sz.a || b.length !== sz.b || out.length !== projectionSize(op, k)) throw new RangeError('projectProduct: size mismatch');
  if (op.layer === 'linear') {
    const { batch, inF, outF } = op.geom;
    switch (op.pass) {
      case 'forward': {
        const t = scratch.int32('v.t', inF * k); // Wᵀ·R
        be.gemmModP({ m: inF, k: outF, n: k, transA: true }, a, r, t);
        be.gemmModP({ m: batch, k: inF, n: k }, b, t, out);
        break;
      }
      case 'grad-input': {
        const t = scratch.int32('v.t', outF * k); // W·R
        be.gemmModP({ m: outF, k: inF, n: k }, a, r, t);
        be.gemmModP({ m: batch, k: outF, n: k }, b, t, out);
        break;
      }
      case 'grad-weight': {
        const t = scratch.int32('v.t', batch * k); // X·R
        be.gemmModP({ m: batch, k: inF, n: k }, b, r, t);
        be.gemmModP({ m: outF, k: batch, n: k, transA: true }, a, t, out);
        break;
      }
    }
    return out;
  }
  const g = op.geom;
  const kk = g.kH * g.kW;
  const patch = g.inC * kk;
  const oh = convOutH(g);
  const ow = convOutW(g);
  switch (op.pass) {
    case 'forward': {
      // k combined images Xs = S·X and k combined filters W_r = R·W; row j: conv(Xs_j, W_r,j), one image, one filter
      const img = g.inC * g.inH * g.inW;
      const xs = scratch.int32('v.s', k * img);
      be.gemmModP({ m: k, k: g.batch, n: img }, p1, b, xs);
      const wr = scratch.int32('v.w', k * patch);
      be.gemmModP({ m: k, k: g.outC, n: patch }, p2, a, wr);
      const plane = oh * ow;
      const one = { ...g, batch: 1, outC: 1 };
      for (let j = 0; j < k; j++) be.conv2dModP(one, xs.subarray(j * img, (j + 1) * img), wr.subarray(j * patch, (j + 1) * patch), out.subarray(j * plane, (j + 1) * plane));
      break;
    }
    case 'grad-input': {
      // k combined output gradients dYs = S·dY and filters W_r[o, δ] = Σ_c r_c W[o, c, δ] (one input channel)
      const grads = g.outC * oh * ow;
      const dys = scratch.int32('v.s', k * grads);
      be.gemmModP({ m: k, k: g.batch, n: grads }, p1, b, dys);
      const wr = scratch.int32('v.w', g.outC * k * kk); // (O × k × kk): W_r for every j, interleaved
      be.conv2dModP(pointwise(g.outC, g.inC, g.kH, g.kW, k), a, p2, wr);
      const wj = scratch.int32('v.t', g.outC * kk);
      const plane = g.inH * g.inW;
      const one = { ...g, batch: 1, inC: 1 };
      for (let j = 0; j < k; j++) {
        for (let o = 0; o < g.outC; o++) wj.set(wr.subarray((o * k + j) * kk, (o * k + j + 1) * kk), o * kk);
        be.conv2dGradInputModP(one, dys.subarray(j * grads, (j + 1) * grads), wj, out.subarray(j * plane, (j + 1) * plane));
      }
      break;
    }
    case 'grad-weight': {
      // u[n, j, ·] = conv(Σ_c ρ_j[c] X[n, c], σ_j): a pointwise conv over channels, then a k-channel depthwise one
      const xr = scratch.int32('v.s', g.batch * k * g.inH * g.inW);
      be.conv2dModP(pointwise(g.batch, g.inC, g.inH, g.inW, k), b, p1, xr);
      const depthwise = scratch.int32('v.w', k * k * kk).fill(0);
      for (let j = 0; j < k; j++) depthwise.set(p2.subarray(j * kk, (j + 1) * kk), (j * k + j) * kk);
      const u = scratch.int32('v.u', g.batch * k * oh * ow);
      be.conv2dModP({ ...g, inC: k, outC: k }, xr, depthwise, u);
      be.conv2dGradWeightModP(pointwise(g.batch, k, oh, ow, g.outC), a, u, out);
      break;
    }
  }
  return out;
}
