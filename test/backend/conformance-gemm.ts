/**
 * GEMM part of the backend conformance suite (see conformance.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, GemmShape } from '../../src/backend/backend.js';
import { HALF } from '../../src/field/prime.js';
import { assertExact, assertF32Close } from './conformance-check.js';
import {
  centreBig,
  layout,
  randCentred,
  randF32,
  refGemmBigInt,
  refGemmF64,
  refGemmModP,
  rng,
} from './conformance-ref.js';

/** m × k × n: unit, K = 1, primes, tile/cache-block edges (4, 64, 256, 512) crossed. */
export const GEMM_SHAPES: ReadonlyArray<readonly [number, number, number]> = [
  [1, 1, 1],
  [1, 1, 7],
  [7, 1, 1],
  [1, 9, 1],
  [5, 1, 9],
  [2, 3, 4],
  [37, 53, 101],
  [101, 37, 53],
  [64, 64, 64],
  [65, 257, 33],
  [130, 300, 520],
];

const TRANS: ReadonlyArray<readonly [boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

function shapeLabel(s: GemmShape, extra = ''): string {
  return `${s.m}×${s.k}×${s.n}${s.transA ? ' transA' : ''}${s.transB ? ' transB' : ''}${extra}`;
}

export function gemmConformance(be: () => Backend): void {
  describe('gemmF32', () => {
    for (const [m, k, n] of GEMM_SHAPES) {
      it(`${m}×${k}×${n}: all transA/transB combinations, with and without accumulate`, () => {
        const r = rng(m * 1000003 + k * 1009 + n);
        const a = randF32(m * k, r);
        const b = randF32(k * n, r);
        const c0 = randF32(m * n, r);
        const ref = refGemmF64(m, k, n, a, b);
        const refAcc = {
          val: ref.val.map((v, i) => v + c0[i]),
          abs: ref.abs.map((v, i) => v + Math.abs(c0[i])),
        };
        for (const [transA, transB] of TRANS) {
          const s: GemmShape = { m, k, n, transA, transB };
          const sa = layout(a, m, k, transA);
          const sb = layout(b, k, n, transB);
          const c = new Float32Array(m * n).fill(Number.NaN); // must be overwritten
          be().gemmF32(s, sa, sb, c);
          assertF32Close(shapeLabel(s), c, ref, k);
          const ca = c0.slice();
          be().gemmF32(s, sa, sb, ca, true);
          assertF32Close(shapeLabel(s, ' accumulate'), ca, refAcc, k + 1);
        }
      });
    }

    it('accumulate = false ignores C; accumulate twice adds twice', () => {
      const r = rng(7);
      const [m, k, n] = [3, 5, 4];
      const a = randF32(m * k, r);
      const b = randF32(k * n, r);
      const ref = refGemmF64(m, k, n, a, b);
      const c = new Float32Array(m * n).fill(1e30);
      be().gemmF32({ m, k, n }, a, b, c, false);
      assertF32Close('overwrite', c, ref, k);
      be().gemmF32({ m, k, n }, a, b, c, true);
      assertF32Close('twice', c, { val: ref.val.map((v) => 2 * v), abs: ref.abs.map((v) => 2 * v) }, 2 * k);
    });
  });

  describe('gemmModP', () => {
    for (const [m, k, n] of GEMM_SHAPES) {
      it(`${m}×${k}×${n}: random centred operands, all transA/transB combinations, exact`, () => {
        const r = rng(m * 7919 + k * 104729 + n * 31);
        const a = randCentred(m * k, r);
        const b = randCentred(k * n, r);
        const want = refGemmModP(m, k, n, a, b);
        for (const [transA, transB] of TRANS) {
          const s: GemmShape = { m, k, n, transA, transB };
          const c = new Int32Array(m * n).fill(0x7fffffff); // must be overwritten
          be().gemmModP(s, layout(a, m, k, transA), layout(b, k, n, transB), c);
          assertExact(shapeLabel(s), c, want);
        }
      });
    }

    // Few output rows (≤ 4) and many columns: the native kernel's direct path, across its 512-column blocks.
    for (const m of [1, 2, 3, 4, 5]) {
      it(`${m}×37×1100 (few rows, wide): exact`, () => {
        const r = rng(m * 4099);
        const a = randCentred(m * 37, r);
        const b = randCentred(37 * 1100, r);
        const c = new Int32Array(m * 1100).fill(0x7fffffff);
        be().gemmModP({ m, k: 37, n: 1100 }, a, b, c);
        assertExact(`${m}×37×1100`, c, refGemmModP(m, 37, 1100, a, b));
      });
    }

    it('residue edges: products and sums landing on ±HALF, ±P, 0', () => {
      const vals = [0, 1, -1, 2, -2, 3, HALF, -HALF, HALF - 1, -(HALF - 1), 1 << 19, -(1 << 19), HALF - 2, 1447, -1447];
      const m = vals.length;
      // K = 1: every pairwise product; K = 2: every pair summed with itself (2·HALF = P − 1 ≡ −1).
      for (const k of [1, 2, 3]) {
        const a = new Int32Array(m * k);
        const b = new Int32Array(k * m);
        for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) a[i * k + p] = vals[i];
        for (let p = 0; p < k; p++) for (let j = 0; j < m; j++) b[p * m + j] = vals[(j + p) % m];
        const c = new Int32Array(m * m);
        be().gemmModP({ m, k, n: m }, a, b, c);
        assertExact(`edges K = ${k}`, c, refGemmBigInt(m, k, m, a, b));
        for (const v of c) assert.ok(v >= -HALF && v <= HALF, `result ${v} not centred`);
      }
    });

    // Worst-case magnitudes: every operand is ±HALF (odd, so every product HALF² is
    // odd) and signs are chosen so that sums reach K·HALF², the largest possible.
    // For K > 8192 the unreduced sum exceeds 2^53: a kernel that does not reduce
    // every ≤ 8192 terms must round (16385 = 2·8192 + 1 probes the second chunk). m, n stay small so the BigInt reference is fast.
    const patterns: ReadonlyArray<readonly [string, (i: number, p: number) => number, (p: number, j: number) => number]> = [
      ['all +HALF', () => HALF, () => HALF],
    // Magnitudes HALF or HALF − 1 (odd/even) at irregular positions: sums stay within
    // 10^-5 of K·HALF² but partial sums of any blocking have mixed parity, so a chunk
    // that is even slightly too long must round somewhere above 2^53.
    ['near-maximal, mixed parity', (i, p) => HALF - (((p * 7 + i) % 13) % 2 === 0 ? 0 : (p % 3 === 0 ? 1 : 0)), (p, j) => -HALF + ((p + 2 * j) % 5 === 0 ? 1 : 0)],
      ['signs (−1)^i and (−1)^j (sums ±K·HALF²)', (i) => (i % 2 ? -HALF : HALF), (_p, j) => (j % 2 ? HALF : -HALF)],
      [
        'pseudo-random signs, B matched to rows 0 and 1 of A',
        (i, p) => (((i + 1) * 2654435761 + p * 40503) >>> 13) & 1 ? HALF : -HALF,
        (p, j) => {
          const row = j % 2; // column j maximises row (j mod 2), with sign (−1)^(j>>1)
          const s = (((row + 1) * 2654435761 + p * 40503) >>> 13) & 1 ? HALF : -HALF;
          return (j >> 1) % 2 ? -s : s;
        },
      ],
    ];
    for (const K of [8192, 8193, 16385, 20000]) {
      it(`worst-case magnitudes, K = ${K}: exact against BigInt`, () => {
        const [m, n] = [3, 5];
        for (const [name, fa, fb] of patterns) {
          const a = new Int32Array(m * K);
          const b = new Int32Array(K * n);
          for (let i = 0; i < m; i++) for (let p = 0; p < K; p++) a[i * K + p] = fa(i, p);
          for (let p = 0; p < K; p++) for (let j = 0; j < n; j++) b[p * n + j] = fb(p, j);
          const want = refGemmBigInt(m, K, n, a, b);
          for (const [transA, transB] of TRANS) {
            const s: GemmShape = { m, k: K, n, transA, transB };
            const c = new Int32Array(m * n);
            be().gemmModP(s, layout(a, m, K, transA), layout(b, K, n, transB), c);
            assertExact(`${name}: ${shapeLabel(s)}`, c, want);
          }
        }
        // The test has teeth: one unchunked float64 sum of K·HALF² is wrong for K > 8192.
        let naive = 0;
        for (let p = 0; p < K; p++) naive += HALF * HALF;
        const exact = BigInt(K) * BigInt(HALF) * BigInt(HALF);
        assert.equal(BigInt(naive) === exact, K <= 8192, 'float64 exactness limit is MAX_EXACT_K (src/field/prime.ts)');
        assert.notEqual(centreBig(exact), 0);
      });
    }
  });

  describe('gemm degenerate shapes', () => {
    it('m = 0 or n = 0 is a no-op; k = 0 gives C = 0 (or C unchanged with accumulate)', () => {
      const e32 = new Float32Array(0);
      const ei = new Int32Array(0);
      be().gemmF32({ m: 0, k: 3, n: 2 }, e32, new Float32Array(6), e32);
      be().gemmF32({ m: 2, k: 3, n: 0 }, new Float32Array(6), e32, e32);
      be().gemmModP({ m: 0, k: 3, n: 2 }, ei, new Int32Array(6), ei);
      const c = new Float32Array([1, 2, 3, 4, 5, 6]);
      be().gemmF32({ m: 2, k: 0, n: 3 }, e32, e32, c, true);
      assert.deepEqual([...c], [1, 2, 3, 4, 5, 6]);
      be().gemmF32({ m: 2, k: 0, n: 3 }, e32, e32, c);
      assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
      const ci = new Int32Array([1, 2, 3, 4, 5, 6]);
      be().gemmModP({ m: 3, k: 0, n: 2, transA: true, transB: true }, ei, ei, ci);
      assert.deepEqual([...ci], [0, 0, 0, 0, 0, 0]);
    });
  });

}
