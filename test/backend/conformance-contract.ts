/**
 * Contract part of the backend conformance suite (see conformance.ts):
 * argument checking, typed-array views at any byteOffset, inputs left intact,
 * and repeated calls with interleaved shapes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { type ConvGeometry, convGeometry, convSizes } from '../../src/tensor/geometry.js';
import { HALF } from '../../src/field/prime.js';
import { assertExact } from './conformance-check.js';
import { randCentred, randF32, refGemmModP, rng } from './conformance-ref.js';

type Buf = Float32Array | Int32Array;
interface BufSpec {
  readonly name: string;
  readonly len: number;
  readonly type: 'f32' | 'i32';
  readonly output?: boolean;
}
interface KernelCase {
  readonly kernel: string;
  readonly bufs: readonly BufSpec[];
  call(be: Backend, b: readonly Buf[]): void;
}

const G: ConvGeometry = convGeometry({ batch: 2, inC: 3, inH: 7, inW: 6, outC: 4, kH: 3, kW: 2, stride: 2, pad: 1 });

function kernelCases(): KernelCase[] {
  const s = { m: 3, k: 4, n: 5 };
  const { input, weight, output } = convSizes(G);
  const conv = (
    kernel: keyof Backend,
    names: readonly [string, string, string],
    lens: readonly [number, number, number],
    type: 'f32' | 'i32',
  ): KernelCase => ({
    kernel,
    bufs: names.map((name, i) => ({ name, len: lens[i], type, output: i === 2 })),
    call: (be, b) => (be[kernel] as (g: ConvGeometry, p: Buf, q: Buf, r: Buf) => void).call(be, G, b[0], b[1], b[2]),
  });
  const gemmBufs = (type: 'f32' | 'i32'): BufSpec[] => [
    { name: 'a', len: s.m * s.k, type },
    { name: 'b', len: s.k * s.n, type },
    { name: 'c', len: s.m * s.n, type, output: true },
  ];
  return [
    { kernel: 'gemmF32', bufs: gemmBufs('f32'), call: (be, b) => be.gemmF32(s, b[0] as Float32Array, b[1] as Float32Array, b[2] as Float32Array) },
    {
      kernel: 'gemmF32 (accumulate, transA, transB)',
      bufs: gemmBufs('f32'),
      call: (be, b) =>
        be.gemmF32({ ...s, transA: true, transB: true }, b[0] as Float32Array, b[1] as Float32Array, b[2] as Float32Array, true),
    },
    { kernel: 'gemmModP', bufs: gemmBufs('i32'), call: (be, b) => be.gemmModP(s, b[0] as Int32Array, b[1] as Int32Array, b[2] as Int32Array) },
    conv('conv2dF32', ['x', 'w', 'y'], [input, weight, output], 'f32'),
    conv('conv2dGradInputF32', ['dy', 'w', 'dx'], [output, weight, input], 'f32'),
    conv('conv2dGradWeightF32', ['dy', 'x', 'dw'], [output, input, weight], 'f32'),
    conv('conv2dModP', ['x', 'w', 'y'], [input, weight, output], 'i32'),
    conv('conv2dGradInputModP', ['dy', 'w', 'dx'], [output, weight, input], 'i32'),
    conv('conv2dGradWeightModP', ['dy', 'x', 'dw'], [output, input, weight], 'i32'),
  ];
}

function randBuf(spec: BufSpec, len: number, r: () => number): Buf {
  return spec.type === 'f32' ? randF32(len, r) : randCentred(len, r);
}

/** Output comparison: exact for Int32 (mod P), 1e-5 absolute for float32 on unit-scale data. */
function assertSame(label: string, got: Buf, want: Buf): void {
  if (got instanceof Int32Array) return assertExact(label, got, want);
  for (let i = 0; i < got.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= 1e-5, `${label}: [${i}] = ${got[i]}, want ${want[i]}`);
  }
}

export function contractConformance(be: () => Backend): void {
  describe('argument checks', () => {
    for (const kc of kernelCases()) {
      it(`${kc.kernel}: rejects every buffer of the wrong length, writing nothing`, () => {
        const r = rng(3);
        for (let bad = 0; bad < kc.bufs.length; bad++) {
          for (const delta of [-1, +1]) {
            const bufs = kc.bufs.map((s, i) => randBuf(s, i === bad ? s.len + delta : s.len, r));
            const out = kc.bufs.findIndex((s) => s.output);
            const before = bufs[out].slice();
            const name = kc.bufs[bad].name;
            assert.throws(
              () => kc.call(be(), bufs),
              (e: unknown) => e instanceof Error && /length/i.test(e.message) && new RegExp(`\\b${name}\\b`).test(e.message),
              `${kc.kernel}: '${name}' with length ${kc.bufs[bad].len + delta} (expected ${kc.bufs[bad].len})`,
            );
            assert.deepEqual(bufs[out], before, `${kc.kernel}: output written despite the error`);
          }
        }
      });
    }

    for (const kc of kernelCases().filter((k) => k.bufs[0].type === 'i32')) {
      it(`${kc.kernel}: rejects operands that are not centred (|v| > HALF), writing nothing`, () => {
        const r = rng(4);
        for (let bad = 0; bad < 2; bad++) {
          for (const v of [HALF + 1, -HALF - 1, 2 ** 31 - 1]) {
            const bufs = kc.bufs.map((s) => randBuf(s, s.len, r));
            bufs[bad][bufs[bad].length >> 1] = v;
            const before = bufs[2].slice();
            assert.throws(() => kc.call(be(), bufs), Error, `${kc.kernel}: '${kc.bufs[bad].name}' containing ${v}`);
            assert.deepEqual(bufs[2], before, `${kc.kernel}: output written despite the error`);
          }
        }
      });
    }

    for (const kc of kernelCases()) {
      it(`${kc.kernel}: rejects an output that shares memory with an input`, () => {
        const r = rng(9);
        for (let inp = 0; inp < 2; inp++) {
          const bufs = kc.bufs.map((s) => randBuf(s, s.len, r));
          // output view starts inside the input's memory (one element in)
          const len = Math.max(bufs[inp].length, bufs[2].length + 1);
          const shared = bufs[2] instanceof Float32Array ? new Float32Array(len) : new Int32Array(len);
          shared.set(bufs[inp]);
          bufs[inp] = shared.subarray(0, bufs[inp].length);
          bufs[2] = shared.subarray(1, 1 + kc.bufs[2].len);
          assert.throws(() => kc.call(be(), bufs), Error, `${kc.kernel}: output overlapping '${kc.bufs[inp].name}'`);
        }
      });
    }

    it('invalid GEMM shapes and conv geometries throw', () => {
      const f = new Float32Array(6);
      const i = new Int32Array(6);
      assert.throws(() => be().gemmF32({ m: -2, k: -3, n: -1 }, f, f, f));
      assert.throws(() => be().gemmF32({ m: 1.5, k: 4, n: 1 }, f, f, new Float32Array(1)));
      assert.throws(() => be().gemmModP({ m: 2, k: 3, n: Number.NaN }, i, i, i));
      const bad: ConvGeometry = { ...G, kH: 12, padH: 0 }; // kernel taller than the image
      const sz = convSizes(G);
      assert.throws(() => be().conv2dF32(bad, new Float32Array(sz.input), new Float32Array(4 * 3 * 12 * 2), new Float32Array(0)));
      const zeroStride: ConvGeometry = { ...G, strideW: 0 };
      assert.throws(() => be().conv2dModP(zeroStride, new Int32Array(sz.input), new Int32Array(sz.weight), new Int32Array(sz.output)));
    });
  });

  describe('buffers', () => {
    for (const kc of kernelCases()) {
      it(`${kc.kernel}: accepts subarray views at any byteOffset, writes only inside the output view, leaves inputs intact`, () => {
        const r = rng(11);
        const plain = kc.bufs.map((s) => randBuf(s, s.len, r));
        const inputsBefore = plain.map((b) => b.slice());
        kc.call(be(), plain);
        kc.bufs.forEach((s, i) => {
          if (!s.output) assert.deepEqual(plain[i], inputsBefore[i], `${kc.kernel}: input '${s.name}' modified`);
        });
        const want = plain[kc.bufs.findIndex((s) => s.output)];
        // Same operands (output pre-filled as in the plain call, since accumulate
        // reads it) placed at odd element offsets inside larger buffers with sentinels.
        const r2 = rng(11);
        const views = kc.bufs.map((s, i) => {
          const pad = 3 + 2 * i;
          const big = s.type === 'f32' ? new Float32Array(s.len + 2 * pad).fill(-777) : new Int32Array(s.len + 2 * pad).fill(-777);
          const v = big.subarray(pad, pad + s.len);
          v.set(randBuf(s, s.len, r2));
          return { big, v, pad };
        });
        kc.call(be(), views.map((x) => x.v));
        const o = kc.bufs.findIndex((s) => s.output);
        assertSame(`${kc.kernel} via views`, views[o].v, want);
        for (const { big, pad } of views) {
          const len = big.length - 2 * pad;
          for (let j = 0; j < pad; j++) {
            assert.equal(big[j], -777, `${kc.kernel}: wrote before a view`);
            assert.equal(big[pad + len + j], -777, `${kc.kernel}: wrote after a view`);
          }
        }
      });
    }

    it('repeated calls with interleaved shapes give identical results (scratch reuse)', () => {
      const r = rng(5);
      const shapes = [
        [96, 700, 80],
        [3, 2, 5],
        [40, 9000, 6],
        [1, 1, 1],
      ] as const;
      const ops = shapes.map(([m, k, n]) => ({ m, k, n, a: randCentred(m * k, r), b: randCentred(k * n, r) }));
      const want = ops.map((o) => refGemmModP(o.m, o.k, o.n, o.a, o.b));
      for (let round = 0; round < 2; round++) {
        for (const [idx, o] of [...ops.entries(), ...[...ops.entries()].reverse()]) {
          const c = new Int32Array(o.m * o.n);
          be().gemmModP({ m: o.m, k: o.k, n: o.n }, o.a, o.b, c);
          assertExact(`round ${round} ${o.m}×${o.k}×${o.n}`, c, want[idx]);
        }
      }
      const sz = convSizes(G);
      const x = randF32(sz.input, r);
      const w = randF32(sz.weight, r);
      const y1 = new Float32Array(sz.output);
      const y2 = new Float32Array(sz.output);
      be().conv2dF32(G, x, w, y1);
      const g2 = convGeometry({ batch: 1, inC: 8, inH: 20, inW: 20, outC: 8, k: 3, pad: 1 });
      const s2 = convSizes(g2);
      be().conv2dF32(g2, randF32(s2.input, r), randF32(s2.weight, r), new Float32Array(s2.output));
      be().conv2dF32(G, x, w, y2);
      assertSame('conv2dF32 after a larger conv', y2, y1);
    });

    it('reports its name', () => {
      assert.equal(typeof be().name, 'string');
      assert.ok(be().name.length > 0);
    });
  });
}
