/**
 * Reference arithmetic for the backend conformance suite: a seeded PRNG,
 * operand generators, exact integer references for mod-P products and direct
 * nested-loop convolutions (no im2col, so they share no code or indexing
 * scheme with any backend).
 *
 * Exactness of the Number-based mod-P references: products |a·b| ≤ HALF² < 2^40
 * are summed in runs of at most 16 before s ← (s + run) mod P with |s| < P, so
 * every intermediate is an integer below 2^44 + 2^21 < 2^53 and exact. The worst-case GEMM
 * tests use BigInt instead, independently of any float argument.
 */
import { type ConvGeometry, convOutH, convOutW } from '../../src/tensor/geometry.js';
import { HALF, P } from '../../src/field/prime.js';

/** Deterministic PRNG (mulberry32), uniform in [0, 1). */
export function rng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform float32 values in [−1, 1). */
export function randF32(n: number, r: () => number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = 2 * r() - 1;
  return v;
}

/** Uniform centred field elements in [−HALF, HALF]. */
export function randCentred(n: number, r: () => number): Int32Array {
  const v = new Int32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.floor(r() * P) - HALF;
  return v;
}

/** The centred representative of an integer-valued Number (|v| < 2^53). */
export function centre(v: number): number {
  let r = v % P;
  if (r > HALF) r -= P;
  else if (r < -HALF) r += P;
  return r;
}

/** The centred representative of a BigInt. */
export function centreBig(v: bigint): number {
  const p = BigInt(P);
  let r = v % p;
  if (r < 0n) r += p;
  const n = Number(r);
  return n > HALF ? n - P : n;
}

/** Stores a logical rows×cols matrix row-major, or transposed (cols×rows) when `trans`. */
export function layout<T extends Float32Array | Int32Array>(logical: T, rows: number, cols: number, trans: boolean): T {
  if (!trans) return logical.slice() as T;
  const out = logical.slice() as T;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = logical[i * cols + j];
  return out;
}

/** Logical (untransposed) GEMM in float64: value and Σ|a||b| per output. */
export function refGemmF64(
  m: number,
  k: number,
  n: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
): { val: Float64Array; abs: Float64Array } {
  const val = new Float64Array(m * n);
  const abs = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      let t = 0;
      for (let p = 0; p < k; p++) {
        const x = a[i * k + p] * b[p * n + j];
        s += x;
        t += Math.abs(x);
      }
      val[i * n + j] = s;
      abs[i * n + j] = t;
    }
  }
  return { val, abs };
}

/** Logical GEMM mod P, exact (Number arithmetic, see header). */
export function refGemmModP(m: number, k: number, n: number, a: Int32Array, b: Int32Array): Int32Array {
  const c = new Int32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p0 = 0; p0 < k; p0 += 16) {
        let run = 0;
        const end = Math.min(k, p0 + 16);
        for (let p = p0; p < end; p++) run += a[i * k + p] * b[p * n + j];
        s = (s + run) % P;
      }
      c[i * n + j] = centre(s);
    }
  }
  return c;
}

/** Logical GEMM over the integers in BigInt, then centred mod P. */
export function refGemmBigInt(m: number, k: number, n: number, a: Int32Array, b: Int32Array): Int32Array {
  const c = new Int32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0n;
      for (let p = 0; p < k; p++) s += BigInt(a[i * k + p]) * BigInt(b[p * n + j]);
      c[i * n + j] = centreBig(s);
    }
  }
  return c;
}

/** Accumulator for the direct convolutions: float64 with Σ|terms|, or exact mod P. */
class Acc {
  v = 0;
  abs = 0;
  private run = 0;
  private terms = 0;
  constructor(private readonly modP: boolean) {}
  add(a: number, b: number): void {
    if (this.modP) {
      // runs of ≤ 16 exact products (< 2^44), then a reduction (see header)
      this.run += a * b;
      if (++this.terms === 16) {
        this.v = (this.v + this.run) % P;
        this.run = 0;
        this.terms = 0;
      }
    } else {
      const t = a * b;
      this.v += t;
      this.abs += Math.abs(t);
    }
  }
  result(): number {
    return this.modP ? centre((this.v + this.run) % P) : this.v;
  }
}

export interface ConvRef {
  /** float64 value, or the centred residue for mod P. */
  readonly val: Float64Array;
  /** Σ|terms| per output (float64 mode only). */
  readonly abs: Float64Array;
}

function dimsOf(g: ConvGeometry) {
  return { ...g, OH: convOutH(g), OW: convOutW(g) };
}

/** y[n,o,oh,ow] = Σ_{c,i,j} w[o,c,i,j]·x[n,c,oh·sH+i−pH, ow·sW+j−pW], directly. */
export function refConv(g: ConvGeometry, x: ArrayLike<number>, w: ArrayLike<number>, modP: boolean): ConvRef {
  const { batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, OH, OW } = dimsOf(g);
  const val = new Float64Array(batch * outC * OH * OW);
  const abs = new Float64Array(val.length);
  let q = 0;
  for (let n = 0; n < batch; n++)
    for (let o = 0; o < outC; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++, q++) {
          const acc = new Acc(modP);
          for (let c = 0; c < inC; c++)
            for (let i = 0; i < kH; i++)
              for (let j = 0; j < kW; j++) {
                const ih = oh * strideH + i - padH;
                const iw = ow * strideW + j - padW;
                if (ih < 0 || ih >= inH || iw < 0 || iw >= inW) continue;
                acc.add(w[((o * inC + c) * kH + i) * kW + j], x[((n * inC + c) * inH + ih) * inW + iw]);
              }
          val[q] = acc.result();
          abs[q] = acc.abs;
        }
  return { val, abs };
}

/**
 * dx[n,c,ih,iw] = Σ w[o,c,i,j]·dy[n,o,oh,ow] over the (o,i,j) with
 * ih = oh·sH + i − pH and iw = ow·sW + j − pW for some in-range (oh, ow):
 * a gather per input pixel (the backends scatter).
 */
export function refConvGradInput(g: ConvGeometry, dy: ArrayLike<number>, w: ArrayLike<number>, modP: boolean): ConvRef {
  const { batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, OH, OW } = dimsOf(g);
  const val = new Float64Array(batch * inC * inH * inW);
  const abs = new Float64Array(val.length);
  let q = 0;
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < inC; c++)
      for (let ih = 0; ih < inH; ih++)
        for (let iw = 0; iw < inW; iw++, q++) {
          const acc = new Acc(modP);
          for (let o = 0; o < outC; o++)
            for (let i = 0; i < kH; i++)
              for (let j = 0; j < kW; j++) {
                const th = ih + padH - i;
                const tw = iw + padW - j;
                if (th < 0 || tw < 0 || th % strideH !== 0 || tw % strideW !== 0) continue;
                const oh = th / strideH;
                const ow = tw / strideW;
                if (oh >= OH || ow >= OW) continue;
                acc.add(w[((o * inC + c) * kH + i) * kW + j], dy[((n * outC + o) * OH + oh) * OW + ow]);
              }
          val[q] = acc.result();
          abs[q] = acc.abs;
        }
  return { val, abs };
}

/** dw[o,c,i,j] = Σ_{n,oh,ow} dy[n,o,oh,ow]·x[n,c,oh·sH+i−pH, ow·sW+j−pW], directly. */
export function refConvGradWeight(g: ConvGeometry, dy: ArrayLike<number>, x: ArrayLike<number>, modP: boolean): ConvRef {
  const { batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, OH, OW } = dimsOf(g);
  const val = new Float64Array(outC * inC * kH * kW);
  const abs = new Float64Array(val.length);
  let q = 0;
  for (let o = 0; o < outC; o++)
    for (let c = 0; c < inC; c++)
      for (let i = 0; i < kH; i++)
        for (let j = 0; j < kW; j++, q++) {
          const acc = new Acc(modP);
          for (let n = 0; n < batch; n++)
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * strideH + i - padH;
              if (ih < 0 || ih >= inH) continue;
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * strideW + j - padW;
                if (iw < 0 || iw >= inW) continue;
                acc.add(dy[((n * outC + o) * OH + oh) * OW + ow], x[((n * inC + c) * inH + ih) * inW + iw]);
              }
            }
          val[q] = acc.result();
          abs[q] = acc.abs;
        }
  return { val, abs };
}
