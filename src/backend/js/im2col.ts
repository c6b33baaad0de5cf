/**
 * im2col / col2im for NCHW convolutions (no groups, no dilation), the JS
 * reference versions (the native addon has its own).
 *
 * For one image x[C, H, W] the column matrix has one row per kernel tap and one
 * column per output pixel:
 *
 *   row r = (c·kH + i)·kW + j           (c < C, i < kH, j < kW)
 *   col s = oh·OW + ow                  (oh < OH, ow < OW)
 *   cols[r, s] = x[c, oh·sH + i − pH, ow·sW + j − pW]   (0 outside the image)
 *
 * so conv(x, w)[o, s] = Σ_r w[o, r]·cols[r, s], a GEMM with K = C·kH·kW.
 * col2im is the adjoint (transpose) of im2col: it scatters-adds every
 * cols[r, s] back onto the input pixel it was read from, so that
 * gradInput = col2im(wᵀ · dy).
 *
 * Both take a column offset and a leading dimension, so several images can be
 * laid side by side in one matrix (columns [g·OH·OW, (g+1)·OH·OW) for image g).
 */
import { type ConvGeometry, convOutH, convOutW } from '../../tensor/geometry.js';

export type NumericArray = Float32Array | Float64Array | Int32Array;

/** First ow ≥ 0 whose input column ow·s + j − p is ≥ 0, clamped to [0, OW]. */
function firstValid(j: number, s: number, p: number, outW: number): number {
  const lo = Math.ceil((p - j) / s);
  return lo < 0 ? 0 : lo > outW ? outW : lo;
}

/** One past the last ow whose input column ow·s + j − p is < W, clamped to [lo, OW]. */
function endValid(j: number, s: number, p: number, inW: number, outW: number, lo: number): number {
  const hi = Math.floor((inW - 1 + p - j) / s) + 1;
  return hi < lo ? lo : hi > outW ? outW : hi;
}

/**
 * cols[colOff + r·ld + s] = im2col(x[xOff .. xOff + C·H·W))[r, s].
 * Writes every element of the C·kH·kW × OH·OW block (zeros for padding).
 */
export function im2col(
  g: ConvGeometry,
  x: NumericArray,
  xOff: number,
  cols: NumericArray,
  colOff: number,
  ld: number,
): void {
  const outH = convOutH(g);
  const outW = convOutW(g);
  const { inC, inH, inW, kH, kW, strideH: sH, strideW: sW, padH: pH, padW: pW } = g;
  let row = colOff;
  for (let c = 0; c < inC; c++) {
    const plane = xOff + c * inH * inW;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, row += ld) {
        const lo = firstValid(j, sW, pW, outW);
        const hi = endValid(j, sW, pW, inW, outW, lo);
        let o = row;
        for (let oh = 0; oh < outH; oh++, o += outW) {
          const ih = oh * sH + i - pH;
          if (ih < 0 || ih >= inH) {
            for (let ow = 0; ow < outW; ow++) cols[o + ow] = 0;
            continue;
          }
          for (let ow = 0; ow < lo; ow++) cols[o + ow] = 0;
          let src = plane + ih * inW + lo * sW + j - pW;
          if (sW === 1) {
            for (let ow = lo; ow < hi; ow++) cols[o + ow] = x[src++];
          } else {
            for (let ow = lo; ow < hi; ow++, src += sW) cols[o + ow] = x[src];
          }
          for (let ow = hi; ow < outW; ow++) cols[o + ow] = 0;
        }
      }
    }
  }
}

/**
 * out[outOff + (c·H + ih)·W + iw] += Σ over the (r, s) that im2col reads from
 * that pixel of cols[colOff + r·ld + s]. Padding taps are dropped. `out` is
 * not cleared first.
 */
export function col2imAdd(
  g: ConvGeometry,
  cols: NumericArray,
  colOff: number,
  ld: number,
  out: Float32Array | Float64Array,
  outOff: number,
): void {
  const outH = convOutH(g);
  const outW = convOutW(g);
  const { inC, inH, inW, kH, kW, strideH: sH, strideW: sW, padH: pH, padW: pW } = g;
  let row = colOff;
  for (let c = 0; c < inC; c++) {
    const plane = outOff + c * inH * inW;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, row += ld) {
        const lo = firstValid(j, sW, pW, outW);
        const hi = endValid(j, sW, pW, inW, outW, lo);
        let o = row;
        for (let oh = 0; oh < outH; oh++, o += outW) {
          const ih = oh * sH + i - pH;
          if (ih < 0 || ih >= inH) continue;
          let dst = plane + ih * inW + lo * sW + j - pW;
          for (let ow = lo; ow < hi; ow++, dst += sW) out[dst] += cols[o + ow];
        }
      }
    }
  }
}
