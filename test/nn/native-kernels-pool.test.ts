/**
 * Pooling kernels: native = reference bit for bit (both loop variants; max with ties, signed
 * zeros, NaN and ±∞; average with padding and ceil-mode overhang; global average), and the
 * reference forwards against the direct float64 loops of helpers.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type PoolGeometry, referenceNnKernels as ref } from '../../src/nn/kernels/index.js';
import { Rng } from '../../src/nn/rng.js';
import { poolRef } from './helpers.js';
import { assertSameBits, awkward, forEachNative, skipNative, uniform } from './kernels-helpers.js';

interface Window {
  k: [number, number];
  s: [number, number];
  p: [number, number];
  ceil: boolean;
}

/** Output length of one axis, as pool.ts computes it. */
function outLen(n: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = n + 2 * p - k;
  if (!ceil) return Math.floor(span / s) + 1;
  const out = Math.ceil(span / s) + 1;
  return (out - 1) * s >= n + p ? out - 1 : out;
}

function geometry(planes: number, H: number, W: number, w: Window): PoolGeometry {
  const outH = outLen(H, w.k[0], w.s[0], w.p[0], w.ceil);
  const outW = outLen(W, w.k[1], w.s[1], w.p[1], w.ceil);
  return { planes, inH: H, inW: W, outH, outW, kH: w.k[0], kW: w.k[1], strideH: w.s[0], strideW: w.s[1], padH: w.p[0], padW: w.p[1] };
}

const W2: Window = { k: [2, 2], s: [2, 2], p: [0, 0], ceil: false };
const WINDOWS: Window[] = [
  W2, // the 2×2 fast path (AVX2: 8 outputs at a time when a row has 16 inputs)
  { k: [2, 2], s: [2, 2], p: [0, 0], ceil: true }, // ceil mode: an odd size overhangs
  { k: [3, 3], s: [2, 2], p: [1, 1], ceil: false },
  { k: [3, 2], s: [1, 2], p: [1, 0], ceil: true },
  { k: [2, 3], s: [3, 1], p: [0, 1], ceil: false },
];
/**
 * [planes, H, W]: one plane, odd sizes, rows of 16/17/33 (AVX2: 8 windows of a row plus a tail),
 * exact 8×8 / 4×4 inputs (AVX2: 8 windows across row pairs, plus a tail when the count is not a
 * multiple of 8), 2×2 inputs, tiny planes.
 */
const PLANES: [number, number, number][] = [
  [1, 2, 2], [1, 5, 7], [3, 9, 7], [2, 6, 16], [3, 4, 17], [2, 5, 33], [5, 3, 3], [1, 32, 32], [3, 8, 8], [5, 4, 4], [3, 6, 4], [7, 2, 2], [1, 4, 8],
]; // prettier-ignore

function cases(): { g: PoolGeometry; label: string }[] {
  const out: { g: PoolGeometry; label: string }[] = [];
  for (const w of WINDOWS) {
    for (const [planes, H, W] of PLANES) {
      if (H + 2 * w.p[0] < w.k[0] || W + 2 * w.p[1] < w.k[1]) continue;
      out.push({ g: geometry(planes, H, W, w), label: `${planes}x${H}x${W} k${w.k} s${w.s} p${w.p}${w.ceil ? ' ceil' : ''}` });
    }
  }
  return out;
}

const sizes = (g: PoolGeometry): [number, number] => [g.planes * g.inH * g.inW, g.planes * g.outH * g.outW];

describe('native pooling = reference, bit for bit', { skip: skipNative }, () => {
  it('max pool forward (values and argmax) and backward', () => {
    forEachNative((k, v) => {
      cases().forEach(({ g, label }, i) => {
        const [ni, no] = sizes(g);
        for (const x of [uniform(ni, i), awkward(ni, i)]) {
          const yRef = new Float32Array(no);
          const idxRef = new Int32Array(no);
          ref.maxPoolForward(g, x, yRef, idxRef);
          const y = new Float32Array(no);
          const idx = new Int32Array(no).fill(-1);
          k.maxPoolForward(g, x, y, idx);
          assertSameBits(y, yRef, `${v} ${label} max y`);
          assertSameBits(idx, idxRef, `${v} ${label} max idx`);
          const dy = awkward(no, i + 50, false);
          const dxRef = new Float32Array(ni);
          ref.maxPoolBackward(idxRef, dy, dxRef);
          const dx = new Float32Array(ni).fill(3);
          k.maxPoolBackward(idx, dy, dx);
          assertSameBits(dx, dxRef, `${v} ${label} max dx`);
        }
      });
    });
  });

  it('max pool backward zeroes every element once, for indices in any order (the kernel zeroes just ahead of its adds)', () => {
    forEachNative((k, v) => {
      const ni = 3 * 4096 + 77; // several of the kernel's 4096-float zeroing chunks, and a tail
      const r = new Rng(5);
      // forward runs, backward jumps across chunk boundaries, repeats, and elements no index reaches
      const idx = Int32Array.from({ length: 9000 }, (_, o) => (o % 3 === 0 ? r.int(ni) : o % 3 === 1 ? ni - 1 - (o % 4000) : (o * 7) % ni));
      const dy = awkward(idx.length, 9, false);
      const dxRef = new Float32Array(ni);
      ref.maxPoolBackward(idx, dy, dxRef);
      const dx = new Float32Array(ni).fill(Number.NaN);
      k.maxPoolBackward(idx, dy, dx);
      assertSameBits(dx, dxRef, `${v} arbitrary-order idx dx`);
    });
  });

  it('max pool: ties keep the first maximum in row-major order, NaN never wins', () => {
    forEachNative((k, v) => {
      const g = geometry(1, 2, 32, W2);
      const x = new Float32Array(64);
      for (let q = 0; q < 16; q++) {
        const c = 2 * q;
        if (q % 4 === 0) [x[c], x[c + 1], x[32 + c], x[32 + c + 1]] = [1, 1, 1, 1];
        if (q % 4 === 1) [x[c], x[c + 1], x[32 + c], x[32 + c + 1]] = [-0, 0, 0, -1];
        if (q % 4 === 2) [x[c], x[c + 1], x[32 + c], x[32 + c + 1]] = [NaN, 5, 6, 6];
        if (q % 4 === 3) [x[c], x[c + 1], x[32 + c], x[32 + c + 1]] = [2, NaN, 3, 3];
      }
      const y = new Float32Array(16);
      const idx = new Int32Array(16);
      k.maxPoolForward(g, x, y, idx);
      const yRef = new Float32Array(16);
      const idxRef = new Int32Array(16);
      ref.maxPoolForward(g, x, yRef, idxRef);
      assertSameBits(y, yRef, `${v} tie y`);
      assertSameBits(idx, idxRef, `${v} tie idx`);
      assert.deepEqual([...idx.slice(0, 4)], [0, 2, 4, 38], `${v}: first of equal maxima; −0 before +0; a NaN first element stays`);
      assert.ok(Object.is(y[1], -0) && Number.isNaN(y[2]) && y[3] === 3);
    });
  });

  it('average pool forward and backward', () => {
    forEachNative((k, v) => {
      cases().forEach(({ g, label }, i) => {
        const [ni, no] = sizes(g);
        const x = awkward(ni, i + 7, false);
        const yRef = new Float32Array(no);
        ref.avgPoolForward(g, x, yRef);
        const y = new Float32Array(no);
        k.avgPoolForward(g, x, y);
        assertSameBits(y, yRef, `${v} ${label} avg y`);
        const dy = uniform(no, i + 8);
        const dxRef = new Float32Array(ni);
        ref.avgPoolBackward(g, dy, dxRef);
        const dx = new Float32Array(ni).fill(3);
        k.avgPoolBackward(g, dy, dx);
        assertSameBits(dx, dxRef, `${v} ${label} avg dx`);
      });
    });
  });

  it('global average pool forward and backward', () => {
    forEachNative((k, v) => {
      for (const [planes, hw] of [[1, 1], [3, 5], [7, 16], [2, 49], [5, 1024]]) {
        const x = awkward(planes * hw, hw, false);
        const yRef = new Float32Array(planes);
        ref.globalAvgPoolForward(planes, hw, x, yRef);
        const y = new Float32Array(planes);
        k.globalAvgPoolForward(planes, hw, x, y);
        assertSameBits(y, yRef, `${v} gap ${planes}x${hw} y`);
        const dy = uniform(planes, hw + 1);
        const dxRef = new Float32Array(planes * hw);
        ref.globalAvgPoolBackward(planes, hw, dy, dxRef);
        const dx = new Float32Array(planes * hw);
        k.globalAvgPoolBackward(planes, hw, dy, dx);
        assertSameBits(dx, dxRef, `${v} gap ${planes}x${hw} dx`);
      }
    });
  });
});

describe('reference pooling against float64', () => {
  it('max is exact and average is within one float32 rounding', () => {
    cases().forEach(({ g, label }, i) => {
      const [ni, no] = sizes(g);
      const x = uniform(ni, i + 300);
      const pool = { kH: g.kH, kW: g.kW, sH: g.strideH, sW: g.strideW, pH: g.padH, pW: g.padW, ceil: label.endsWith('ceil') };
      const max = poolRef('max', g.planes, g.inH, g.inW, pool, x);
      const avg = poolRef('avg', g.planes, g.inH, g.inW, pool, x);
      assert.equal(max.y.length, no, `${label}: output size`);
      const y = new Float32Array(no);
      ref.maxPoolForward(g, x, y, new Int32Array(no));
      assert.deepEqual([...y], [...max.y].map(Math.fround), `${label} max`);
      ref.avgPoolForward(g, x, y);
      avg.y.forEach((w, j) => assert.ok(Math.abs(y[j] - w) <= 2 ** -24 * Math.abs(w) + 1e-12, `${label} avg[${j}]: ${y[j]} vs ${w}`));
    });
  });
});
