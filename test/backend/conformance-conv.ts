/**
 * Convolution part of the backend conformance suite (see conformance.ts):
 * every conv kernel, float32 and mod P, against the direct nested-loop
 * references of conformance-ref.ts, plus the adjoint identities
 *
 *   <conv(x, w), dy> = <x, gradInput(dy, w)> = <w, gradWeight(dy, x)>,
 *
 * exactly mod P and within a stated tolerance in float32.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { type ConvGeometry, convGeometry, convOutH, convOutW, convSizes } from '../../src/tensor/geometry.js';
import { HALF, P } from '../../src/field/prime.js';
import { U, assertExact, assertF32Close } from './conformance-check.js';
import { centre, randCentred, randF32, refConv, refConvGradInput, refConvGradWeight, rng } from './conformance-ref.js';

type Named = readonly [string, ConvGeometry];

/** Geometries: 1×1, 3×3 pad 1, 5×5 stride 2 pad 2, non-square, holes, over-padding, batch 1, odd channels. */
export const CONV_GEOMETRIES: readonly Named[] = [
  ['1×1 pointwise', convGeometry({ batch: 2, inC: 3, inH: 5, inW: 4, outC: 5, k: 1 })],
  ['1×1 stride 2', convGeometry({ batch: 1, inC: 2, inH: 7, inW: 6, outC: 3, k: 1, stride: 2 })],
  ['3×3 pad 1', convGeometry({ batch: 2, inC: 3, inH: 8, inW: 8, outC: 4, k: 3, pad: 1 })],
  ['5×5 stride 2 pad 2', convGeometry({ batch: 2, inC: 3, inH: 11, inW: 9, outC: 5, k: 5, stride: 2, pad: 2 })],
  [
    '3×2 kernel, stride 2×1, pad 1×0',
    convGeometry({ batch: 1, inC: 5, inH: 9, inW: 7, outC: 3, kH: 3, kW: 2, strideH: 2, strideW: 1, padH: 1, padW: 0 }),
  ],
  [
    '2×4 kernel, stride 1×3, pad 0×2',
    convGeometry({ batch: 2, inC: 2, inH: 6, inW: 11, outC: 3, kH: 2, kW: 4, strideH: 1, strideW: 3, padH: 0, padW: 2 }),
  ],
  ['2×2 stride 3 pad 1 (stride > kernel: untouched pixels)', convGeometry({ batch: 2, inC: 1, inH: 8, inW: 10, outC: 2, k: 2, stride: 3, pad: 1 })],
  ['2×2 pad 2 (all-padding output rows)', convGeometry({ batch: 1, inC: 2, inH: 3, inW: 4, outC: 3, k: 2, pad: 2 })],
  ['kernel = image (1×1 output)', convGeometry({ batch: 3, inC: 4, inH: 5, inW: 5, outC: 6, k: 5 })],
  ['batch 1, odd channels 7→9, 3×3 pad 1', convGeometry({ batch: 1, inC: 7, inH: 6, inW: 5, outC: 9, k: 3, pad: 1 })],
  ['16→16 channels, 12×12, 3×3 pad 1', convGeometry({ batch: 2, inC: 16, inH: 12, inW: 12, outC: 16, k: 3, pad: 1 })],
  ['24×24 output (OH·OW > 512), 3×3 pad 1', convGeometry({ batch: 2, inC: 3, inH: 24, inW: 24, outC: 4, k: 3, pad: 1 })],
  ['batch 64, 4→2 channels, 32×32, 3×3 pad 1', convGeometry({ batch: 64, inC: 4, inH: 32, inW: 32, outC: 2, k: 3, pad: 1 })],
];

/** Reduction lengths of forward, grad-input, grad-weight (bilinear.ts conventions). */
function convK(g: ConvGeometry): { fwd: number; gin: number; gw: number } {
  return { fwd: g.inC * g.kH * g.kW, gin: g.outC * g.kH * g.kW, gw: g.batch * convOutH(g) * convOutW(g) };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Σ a_i·b_i mod P, exact (|s| < P, |a·b| < 2^40; reduced every 16 terms, < 2^45). */
function dotModP(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i] * b[i];
    if ((i & 15) === 15) s %= P;
  }
  return centre(s % P);
}

function seedOf(g: ConvGeometry): number {
  return Object.values(g).reduce((h: number, v: number) => (Math.imul(h, 31) + v) | 0, 17);
}

export function convConformance(be: () => Backend): void {
  describe('conv float32 (direct-loop reference)', () => {
    for (const [name, g] of CONV_GEOMETRIES) {
      it(`${name}: forward, grad-input, grad-weight`, () => {
        const sz = convSizes(g);
        const K = convK(g);
        const r = rng(seedOf(g));
        const x = randF32(sz.input, r);
        const w = randF32(sz.weight, r);
        const dy = randF32(sz.output, r);
        const y = new Float32Array(sz.output).fill(Number.NaN);
        be().conv2dF32(g, x, w, y);
        assertF32Close(`${name} forward`, y, refConv(g, x, w, false), K.fwd);
        const dx = new Float32Array(sz.input).fill(Number.NaN);
        be().conv2dGradInputF32(g, dy, w, dx);
        assertF32Close(`${name} grad-input`, dx, refConvGradInput(g, dy, w, false), K.gin);
        const dw = new Float32Array(sz.weight).fill(Number.NaN);
        be().conv2dGradWeightF32(g, dy, x, dw);
        assertF32Close(`${name} grad-weight`, dw, refConvGradWeight(g, dy, x, false), K.gw);
      });
    }
  });

  describe('conv mod P (direct-loop exact reference)', () => {
    for (const [name, g] of CONV_GEOMETRIES) {
      it(`${name}: forward, grad-input, grad-weight`, () => {
        const sz = convSizes(g);
        const r = rng(seedOf(g) ^ 0x5a5a);
        const x = randCentred(sz.input, r);
        const w = randCentred(sz.weight, r);
        const dy = randCentred(sz.output, r);
        const y = new Int32Array(sz.output).fill(-0x7fffffff);
        be().conv2dModP(g, x, w, y);
        assertExact(`${name} forward`, y, refConv(g, x, w, true).val);
        const dx = new Int32Array(sz.input).fill(-0x7fffffff);
        be().conv2dGradInputModP(g, dy, w, dx);
        assertExact(`${name} grad-input`, dx, refConvGradInput(g, dy, w, true).val);
        const dw = new Int32Array(sz.weight).fill(-0x7fffffff);
        be().conv2dGradWeightModP(g, dy, x, dw);
        assertExact(`${name} grad-weight`, dw, refConvGradWeight(g, dy, x, true).val);
      });
    }

    // Worst-case magnitudes with long reductions: operands ±HALF (or HALF − 1, so
    // that partial sums are not all even and cannot hide above 2^53), so interior
    // sums reach ≈ K·HALF² > 2^53 whenever K > 8192.
    const long: readonly Named[] = [
      ['grad-weight, K = N·OH·OW = 3·56·56 = 9408', convGeometry({ batch: 3, inC: 2, inH: 56, inW: 56, outC: 2, k: 3, pad: 1 })],
      ['grad-weight, one image with OH·OW = 96·96 = 9216', convGeometry({ batch: 1, inC: 1, inH: 96, inW: 96, outC: 2, k: 3, pad: 1 })],
      ['forward, K = C·kH·kW = 2048·3·3 = 18432', convGeometry({ batch: 1, inC: 2048, inH: 3, inW: 4, outC: 2, k: 3 })],
      ['grad-input, K = O = 20000 (1×1)', convGeometry({ batch: 1, inC: 1, inH: 2, inW: 2, outC: 20000, k: 1 })],
    ];
    for (const [name, g] of long) {
      it(`worst-case magnitudes, ${name}`, () => {
        const sz = convSizes(g);
        const sign = (i: number) => ((i * 2654435761) >>> 31 ? -HALF : HALF);
        for (const [label, fill] of [
          ['all +HALF', () => HALF],
          ['HALF or HALF − 1 (partial sums of mixed parity)', (i: number) => HALF - (i % 3 === 1 ? 1 : 0)],
          ['pseudo-random signs', sign],
        ] as const) {
          const x = Int32Array.from({ length: sz.input }, (_, i) => fill(i));
          const w = Int32Array.from({ length: sz.weight }, (_, i) => fill(i + 7));
          const dy = Int32Array.from({ length: sz.output }, (_, i) => fill(i + 13));
          const y = new Int32Array(sz.output);
          be().conv2dModP(g, x, w, y);
          assertExact(`${name} ${label} forward`, y, refConv(g, x, w, true).val);
          const dx = new Int32Array(sz.input);
          be().conv2dGradInputModP(g, dy, w, dx);
          assertExact(`${name} ${label} grad-input`, dx, refConvGradInput(g, dy, w, true).val);
          const dw = new Int32Array(sz.weight);
          be().conv2dGradWeightModP(g, dy, x, dw);
          assertExact(`${name} ${label} grad-weight`, dw, refConvGradWeight(g, dy, x, true).val);
        }
      });
    }
  });

  describe('conv adjoint identities', () => {
    for (const [name, g] of CONV_GEOMETRIES) {
      it(`${name}: <conv(x,w),dy> = <x,gradInput(dy,w)> = <w,gradWeight(dy,x)>`, () => {
        const sz = convSizes(g);
        const r = rng(seedOf(g) + 99);
        // float32, inner products accumulated in float64. All three equal the same
        // triple sum T = Σ x·w·dy; each backend output carries an error of at most
        // f32Tolerance(K, Σ|terms|), so the inner products may differ by
        // Σ_outputs |dy|·tol ≤ u·(1+2√Kmax)·A, A = Σ|x||w||dy|. We allow 4× that.
        const x = randF32(sz.input, r);
        const w = randF32(sz.weight, r);
        const dy = randF32(sz.output, r);
        const y = new Float32Array(sz.output);
        const dx = new Float32Array(sz.input);
        const dw = new Float32Array(sz.weight);
        be().conv2dF32(g, x, w, y);
        be().conv2dGradInputF32(g, dy, w, dx);
        be().conv2dGradWeightF32(g, dy, x, dw);
        const A = dot(refConv(g, x, w, false).abs, dy.map(Math.abs));
        const K = convK(g);
        const tol = 4 * U * (1 + 2 * Math.sqrt(Math.max(K.fwd, K.gin, K.gw))) * A;
        const t1 = dot(y, dy);
        const t2 = dot(x, dx);
        const t3 = dot(w, dw);
        assert.ok(Math.abs(t1 - t2) <= tol, `<y,dy> = ${t1} vs <x,dx> = ${t2} (tol ${tol})`);
        assert.ok(Math.abs(t1 - t3) <= tol, `<y,dy> = ${t1} vs <w,dw> = ${t3} (tol ${tol})`);
        // mod P the identity is exact.
        const xq = randCentred(sz.input, r);
        const wq = randCentred(sz.weight, r);
        const dyq = randCentred(sz.output, r);
        const yq = new Int32Array(sz.output);
        const dxq = new Int32Array(sz.input);
        const dwq = new Int32Array(sz.weight);
        be().conv2dModP(g, xq, wq, yq);
        be().conv2dGradInputModP(g, dyq, wq, dxq);
        be().conv2dGradWeightModP(g, dyq, xq, dwq);
        const q1 = dotModP(yq, dyq);
        assert.equal(dotModP(xq, dxq), q1, 'mod P: <x,dx> = <y,dy>');
        assert.equal(dotModP(wq, dwq), q1, 'mod P: <w,dw> = <y,dy>');
      });
    }
  });
}
