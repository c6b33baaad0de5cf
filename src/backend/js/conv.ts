/**
 * Convolutions as GEMMs over im2col matrices (NCHW, weights O×C×kH×kW), one
 * generic driver for float32 and for mod P. With K_f = C·kH·kW, S = OH·OW:
 *
 *   forward      y[n] (O×S)      = W (O×K_f) · cols(x[n]) (K_f×S)
 *   grad-input   dx[n]           = col2im( Wᵀ (K_f×O) · dy[n] (O×S) )
 *   grad-weight  dW (O×K_f)      = Σ_n dy[n] (O×S) · cols(x[n])ᵀ (S×K_f)
 *
 * The weight gradient is a single reduction of length N·S: images are grouped
 * side by side (columns g·S + s) into one GEMM per group of G images, so small
 * feature maps still give long GEMMs. Mod P, the GEMM engine reduces every
 * ≤ 8192 terms and groups accumulate into centred dW, so any N·S is exact.
 * The grad-input col2im sums up to kH·kW GEMM outputs per pixel in float64
 * (exact for centred integers) before the final conversion / reduction.
 *
 * A 1×1 kernel with stride 1 and no padding needs no im2col: cols(x[n]) = x[n].
 */
import { reduceCentred } from '../../field/prime.js';
import { type ConvGeometry, convOutH, convOutW } from '../../tensor/geometry.js';
import { col2imAdd, im2col } from './im2col.js';
import type { GemmDims } from './gemm-core.js';
import { gemmF32Into } from './gemm-f32.js';
import { gemmModPInto } from './gemm-modp.js';
import type { Scratch } from './scratch.js';

/** Largest grad-weight column group, in elements of the grouped im2col matrix. */
const GROUP_ELEMS = 1 << 21;

/** What differs between the float32 and the mod-P convolutions. */
export interface ConvFlavor<T extends Float32Array | Int32Array> {
  /** A scratch array of the operand type with at least n elements. */
  scratch(slot: string, n: number): T;
  /** C[cOff..] (=|+=) op(A)·op(B), exact mod P for the mod-P flavour. */
  gemm(d: GemmDims, a: T, aOff: number, b: T, bOff: number, c: T, cOff: number, accumulate: boolean): void;
  /** dst[dstOff + i] = src[i] for i < len (float32 rounding, or centred reduction mod P). */
  finish(src: Float64Array, dst: T, dstOff: number, len: number): void;
}

export function f32Flavor(s: Scratch): ConvFlavor<Float32Array> {
  return {
    scratch: (slot, n) => s.f32(`f32.${slot}`, n),
    gemm: (d, a, aOff, b, bOff, c, cOff, acc) => gemmF32Into(s, d, a, aOff, b, bOff, c, cOff, acc),
    finish: (src, dst, dstOff, len) => {
      for (let i = 0; i < len; i++) dst[dstOff + i] = src[i];
    },
  };
}

export function modPFlavor(s: Scratch): ConvFlavor<Int32Array> {
  return {
    scratch: (slot, n) => s.i32(`i32.${slot}`, n),
    gemm: (d, a, aOff, b, bOff, c, cOff, acc) => gemmModPInto(s, d, a, aOff, b, bOff, c, cOff, acc),
    finish: (src, dst, dstOff, len) => {
      for (let i = 0; i < len; i++) dst[dstOff + i] = reduceCentred(src[i]);
    },
  };
}

function isPointwise(g: ConvGeometry): boolean {
  return g.kH === 1 && g.kW === 1 && g.strideH === 1 && g.strideW === 1 && g.padH === 0 && g.padW === 0;
}

function dims(m: number, k: number, n: number, transA = false, transB = false): GemmDims {
  return { m, k, n, transA, transB };
}

/** y = conv(x, w). */
export function convForward<T extends Float32Array | Int32Array>(
  fl: ConvFlavor<T>,
  g: ConvGeometry,
  x: T,
  w: T,
  y: T,
): void {
  const S = convOutH(g) * convOutW(g);
  const kf = g.inC * g.kH * g.kW;
  const inSize = g.inC * g.inH * g.inW;
  const d = dims(g.outC, kf, S);
  if (isPointwise(g)) {
    for (let n = 0; n < g.batch; n++) fl.gemm(d, w, 0, x, n * inSize, y, n * g.outC * S, false);
    return;
  }
  const cols = fl.scratch('conv.cols', kf * S);
  for (let n = 0; n < g.batch; n++) {
    im2col(g, x, n * inSize, cols, 0, S);
    fl.gemm(d, w, 0, cols, 0, y, n * g.outC * S, false);
  }
}

/** dx = convᵀ(dy, w), the input gradient. */
export function convGradInput<T extends Float32Array | Int32Array>(
  fl: ConvFlavor<T>,
  s: Scratch,
  g: ConvGeometry,
  dy: T,
  w: T,
  dx: T,
): void {
  const S = convOutH(g) * convOutW(g);
  const kf = g.inC * g.kH * g.kW;
  const inSize = g.inC * g.inH * g.inW;
  const d = dims(kf, g.outC, S, true); // op(A) = Wᵀ, W stored O×K_f
  if (isPointwise(g)) {
    for (let n = 0; n < g.batch; n++) fl.gemm(d, w, 0, dy, n * g.outC * S, dx, n * inSize, false);
    return;
  }
  const cols = fl.scratch('conv.cols', kf * S);
  const sum = s.f64('conv.sum', inSize);
  for (let n = 0; n < g.batch; n++) {
    fl.gemm(d, w, 0, dy, n * g.outC * S, cols, 0, false);
    sum.fill(0, 0, inSize);
    col2imAdd(g, cols, 0, S, sum, 0);
    fl.finish(sum, dx, n * inSize, inSize);
  }
}

/** dw = Σ_n dy[n] · cols(x[n])ᵀ, the weight gradient. */
export function convGradWeight<T extends Float32Array | Int32Array>(
  fl: ConvFlavor<T>,
  g: ConvGeometry,
  dy: T,
  x: T,
  dw: T,
): void {
  const S = convOutH(g) * convOutW(g);
  const kf = g.inC * g.kH * g.kW;
  const inSize = g.inC * g.inH * g.inW;
  const O = g.outC;
  const G = Math.max(1, Math.min(g.batch, Math.floor(GROUP_ELEMS / (kf * S))));
  const cols = fl.scratch('conv.cols', kf * G * S);
  const dyG = G > 1 ? fl.scratch('conv.dyg', O * G * S) : dy;
  for (let n0 = 0; n0 < g.batch; n0 += G) {
    const gn = Math.min(G, g.batch - n0);
    const ld = gn * S;
    let aOff = n0 * O * S;
    if (G > 1) {
      // dyG[o, g·S + s] = dy[n0 + g, o, s]
      for (let o = 0; o < O; o++) {
        for (let gi = 0; gi < gn; gi++) {
          const src = ((n0 + gi) * O + o) * S;
          const dst = o * ld + gi * S;
          for (let t = 0; t < S; t++) dyG[dst + t] = dy[src + t];
        }
      }
      aOff = 0;
    }
    for (let gi = 0; gi < gn; gi++) im2col(g, x, (n0 + gi) * inSize, cols, gi * S, ld);
    // dW (O×K_f) (+)= dyG (O×ld) · colsᵀ, cols stored K_f×ld
    fl.gemm(dims(O, ld, kf, false, true), dyG, aOff, cols, 0, dw, 0, n0 > 0);
  }
}
