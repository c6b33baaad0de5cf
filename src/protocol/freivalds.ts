/**
 * Freivalds-style projections of the six bilinear ops (backend/bilinear.ts), exact over Z_P: a claimed
 * result C of C = f(A, B) is checked by comparing two cheap k-column projections,
 *
 *   projectResult(C, R) == projectProduct(A, B, R)
 *
 * where R holds k random field elements per column. Both sides are computed with the backend's exact
 * mod-P kernels on centred Int32 operands (every intermediate value is a centred field element), so the
 * comparison is exact. With D = C − f(A, B) ≠ 0, each column r of R passes only when r lies in the kernel of
 * a nonzero linear map, which for r uniform on Z_P^n has probability ≤ 1/P; k independent columns pass
 * together with probability ≤ P^−k. Per op (R is `rows × k`, `projectionRows`):
 *
 *   linear forward      C = X·Wᵀ (B×out)   R: out×k      C·R            == X·(Wᵀ·R)
 *   linear grad-input   C = dY·W (B×in)    R: in×k       C·R            == dY·(W·R)
 *   linear grad-weight  C = dYᵀ·X (out×in) R: in×k       C·R            == dYᵀ·(X·R)
 *   conv forward        C = conv(X, W)     Rᵀ: k×outC    Σ_o R[o,j]·C[n,o,·]   == conv(X, Σ_o R[o,j]·W[o])
 *                                                        (a k-output-channel conv; the left side a 1×1 conv of C)
 *   conv grad-input     C = dX             Rᵀ: k×inC     Σ_c R[c,j]·dX[n,c,·]  == convGradInput(dY, W_R),
 *                                                        W_R[o,j] = Σ_c R[c,j]·W[o,c]  (k input channels)
 *   conv grad-weight    C = dW (outC×inC·kH·kW)  Rᵀ: k×(inC·kH·kW)
 *                                                        dW·R [o,j]     == Σ_{n,p} dY[n,o,p]·u[n,j,p],
 *                                                        u = conv(X, Rᵀ) (k one-output-channel convs)
 *
 * The right side never forms f(A, B): its cost is that of a k-output (or k-input) channel op, about
 * k / (channels) of the product itself, plus the 1×1 projections of C.
 */
import type { Backend } from '../backend/backend.js';
import { type BilinearOp, bilinearSizes } from '../backend/bilinear.js';
import { type ConvGeometry, convOutH, convOutW } from '../tensor/geometry.js';
import type { Int32Buffers } from './managed-buffers.js';

/** Fresh arrays: for callers without a pool (tests, one-off checks). */
export const FRESH_INT32: Int32Buffers = { int32: (_name, n) => new Int32Array(n) };

/** A 1×1, stride-1, unpadded conv: a per-pixel matrix product over channels. */
function pointwise(batch: number, inC: number, h: number, w: number, outC: number): ConvGeometry {
  return { batch, inC, inH: h, inW: w, outC, kH: 1, kW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0 };
}

/** Rows of R (R holds rows × k elements): the dimension the op's result is projected over. */
export function projectionRows(op: BilinearOp): number {
  if (op.layer === 'linear') return op.pass === 'forward' ? op.geom.outF : op.geom.inF;
  const g = op.geom;
  return op.pass === 'forward' ? g.outC : op.pass === 'grad-input' ? g.inC : g.inC * g.kH * g.kW;
}

/** Elements of either side of the projection. */
export function projectionSize(op: BilinearOp, k: number): number {
  if (op.layer === 'linear') {
    const { batch, outF } = op.geom;
    return (op.pass === 'grad-weight' ? outF : batch) * k;
  }
  const g = op.geom;
  const outHW = convOutH(g) * convOutW(g);
  switch (op.pass) {
    case 'forward':
      return g.batch * k * outHW;
    case 'grad-input':
      return g.batch * k * g.inH * g.inW;
    case 'grad-weight':
      return g.outC * k;
  }
}

function checkR(op: BilinearOp, r: Int32Array, k: number): void {
  if (!Number.isInteger(k) || k < 1 || r.length !== projectionRows(op) * k) {
    throw new RangeError(`projection: R must hold ${projectionRows(op)} × ${k} elements, got ${r.length}`);
  }
}

/** The left side: C projected by R (layouts as in the table above), written to and returning `out`. */
export function projectResult(be: Backend, op: BilinearOp, c: Int32Array, r: Int32Array, k: number, out: Int32Array): Int32Array {
  checkR(op, r, k);
  if (c.length !== bilinearSizes(op).c || out.length !== projectionSize(op, k)) throw new RangeError('projectResult: size mismatch');
  if (op.layer === 'linear') {
    const { batch, inF, outF } = op.geom;
    const m = op.pass === 'grad-weight' ? outF : batch;
    const inner = op.pass === 'forward' ? outF : inF;
    be.gemmModP({ m, k: inner, n: k }, c, r, out);
    return out;
  }
  const g = op.geom;
  switch (op.pass) {
    case 'forward':
      be.conv2dModP(pointwise(g.batch, g.outC, convOutH(g), convOutW(g), k), c, r, out);
      break;
    case 'grad-input':
      be.conv2dModP(pointwise(g.batch, g.inC, g.inH, g.inW, k), c, r, out);
      break;
    case 'grad-weight':
      be.gemmModP({ m: g.outC, k: g.inC * g.kH * g.kW, n: k, transB: true }, c, r, out);
      break;
  }
  return out;
}

/**
 * The right side: f(A, B) projected by R without forming f(A, B), written to and returning `out`
 * (one intermediate of k rows or channels, taken from `scratch` as 'v.t').
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
  checkR(op, r, k);
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
  const patch = g.inC * g.kH * g.kW;
  switch (op.pass) {
    case 'forward': {
      const wr = scratch.int32('v.t', k * patch); // Rᵀ·W: k filters
      be.gemmModP({ m: k, k: g.outC, n: patch }, r, a, wr);
      be.conv2dModP({ ...g, outC: k }, b, wr, out);
      break;
    }
    case 'grad-input': {
      const wr = scratch.int32('v.t', g.outC * k * g.kH * g.kW); // W_R[o, j] = Σ_c R[c, j]·W[o, c]
      be.conv2dModP(pointwise(g.outC, g.inC, g.kH, g.kW, k), a, r, wr);
      be.conv2dGradInputModP({ ...g, inC: k }, b, wr, out);
      break;
    }
    case 'grad-weight': {
      const oh = convOutH(g);
      const ow = convOutW(g);
      const u = scratch.int32('v.t', g.batch * k * oh * ow); // conv(X, Rᵀ)
      be.conv2dModP({ ...g, outC: k }, b, r, u);
      be.conv2dGradWeightModP(pointwise(g.batch, k, oh, ow, g.outC), a, u, out);
      break;
    }
  }
  return out;
}
