/**
 * What only concerns the native addon (the shared conformance suite runs on it
 * from native-conformance.test.ts, which also fails when the addon is missing):
 * bad arguments throw TypeError/RangeError instead of crashing the
 * process, non-centred mod-P operands are rejected with the output untouched,
 * every conv grouping (images per GEMM) gives the same results, the addon-only
 * kernels (im2col/col2im, dgemm) work, and info() names the linked BLAS.
 * Workspace limit: mod-P results are bitwise equal for every limit, float32
 * results are deterministic for a fixed limit, and the workspace held between
 * calls never exceeds the limit.
 * Skipped, with the reason, when the addon is not built here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConvGeometry, convGeometry, convOutH, convOutW, convSizes } from '../../src/tensor/geometry.js';
import {
  DEFAULT_NATIVE_WORKSPACE_BYTES,
  type NativeBackend,
  createNativeBackend,
  defaultWorkspaceBytes,
  nativeAvailability,
} from '../../src/backend/native/native-backend.js';
import { loadNativeAddon, type NativeAddon } from '../../src/addon/addon.js';
import { HALF } from '../../src/field/prime.js';
import { assertExact } from './conformance-check.js';
import { layout, randCentred, randF32, refConv, refConvGradInput, refConvGradWeight, refGemmModP, rng } from './conformance-ref.js';

const avail = nativeAvailability();
const load = loadNativeAddon();

if (!load.ok) {
  describe('native backend', () => {
    it(`skipped: ${avail.reason}`, { skip: avail.reason }, () => {});
  });
} else {
  const addon: NativeAddon = load.addon;

  describe('native addon specifics', () => {
    it('info() names the linked BLAS and its threads', () => {
      const info = addon.info();
      assert.ok(info.blas === 'openblas' || info.blas === 'builtin', info.blas);
      assert.ok(Number.isInteger(info.threads) && info.threads >= 1);
      assert.equal(avail.blas, info.blas);
      assert.equal(createNativeBackend().info().blas, info.blas);
    });

    it('wrong argument kinds throw TypeError, not a crash', () => {
      const f = new Float32Array(4);
      const i = new Int32Array(4);
      const d = new Float64Array(4);
      const bad: Array<() => void> = [
        () => addon.sgemm(2, 2, 2, false, false, d as never, f, f),
        () => addon.sgemm(2, 2, 2, false, false, f, [1, 2, 3, 4] as never, f),
        () => addon.gemmModP(2, 2, 2, false, false, i, i, f as never),
        () => addon.sgemm('2' as never, 2, 2, false, false, f, f, f),
        () => addon.sgemm(2, 2, 2, 1 as never, false, f, f, f),
        () => (addon.sgemm as (...a: unknown[]) => void)(),
        () => addon.conv2dF32(null as never, f, f, f),
        () => addon.conv2dF32({ batch: 1 } as never, f, f, f),
        () => addon.im2col(convGeometry({ batch: 1, inC: 1, inH: 2, inW: 2, outC: 1, k: 1 }), i as never, i as never),
      ];
      for (const fn of bad) assert.throws(fn, TypeError);
    });

    it('impossible sizes throw RangeError before allocating anything', () => {
      const f = new Float32Array(1);
      assert.throws(() => addon.sgemm(2 ** 31, 1, 1, false, false, f, f, f), RangeError);
      assert.throws(() => addon.sgemm(1, 1, 2 ** 40, false, false, f, f, f), RangeError);
      const huge: ConvGeometry = { ...convGeometry({ batch: 1, inC: 1, inH: 2, inW: 2, outC: 1, k: 1 }), inC: 2 ** 31 - 1, inH: 2 ** 31 - 1 };
      assert.throws(() => addon.conv2dModP(huge, new Int32Array(1), new Int32Array(1), new Int32Array(1)), RangeError);
      const detached = new Float32Array(4);
      structuredClone(detached.buffer, { transfer: [detached.buffer] });
      assert.throws(() => addon.sgemm(2, 2, 2, false, false, detached, new Float32Array(4), new Float32Array(4)), RangeError);
    });

    it('accepts views of SharedArrayBuffers (memory shared with worker threads)', () => {
      const sab = new SharedArrayBuffer(3 * 4 * 4);
      const a = new Int32Array(sab, 0, 4).fill(HALF);
      const b = new Int32Array(sab, 16, 4).fill(-HALF);
      const c = new Int32Array(sab, 32, 4);
      addon.gemmModP(2, 2, 2, false, false, a, b, c);
      const want = Number(((-2n * BigInt(HALF) ** 2n) % 2097143n + 2097143n) % 2097143n);
      assert.deepEqual([...c], new Array(4).fill(want > HALF ? want - 2097143 : want));
    });

    it('an output sharing memory with an input is rejected', () => {
      const buf = new Float32Array(8);
      assert.throws(() => addon.sgemm(2, 2, 2, false, false, buf.subarray(0, 4), buf.subarray(4), buf.subarray(2, 6)), /share memory/);
      const g = convGeometry({ batch: 1, inC: 2, inH: 3, inW: 3, outC: 2, k: 1 });
      const big = new Int32Array(36);
      assert.throws(() => addon.conv2dModP(g, big.subarray(0, 18), big.subarray(18, 22), big.subarray(0, 18)), /share memory/);
    });

    it('non-centred mod-P operands throw RangeError and leave the output untouched', () => {
      const g = convGeometry({ batch: 2, inC: 2, inH: 4, inW: 4, outC: 3, k: 3, pad: 1 });
      const s = convSizes(g);
      const r = rng(9);
      const cases: Array<[string, (bad: Int32Array, out: Int32Array) => void, number, number]> = [
        ['gemmModP', (a, c) => addon.gemmModP(3, 4, 5, false, false, a, randCentred(20, r), c), 12, 15],
        ['conv2dModP', (x, y) => addon.conv2dModP(g, x, randCentred(s.weight, r), y), s.input, s.output],
        ['conv2dGradInputModP', (dy, dx) => addon.conv2dGradInputModP(g, dy, randCentred(s.weight, r), dx), s.output, s.input],
        ['conv2dGradWeightModP', (dy, dw) => addon.conv2dGradWeightModP(g, dy, randCentred(s.input, r), dw), s.output, s.weight],
      ];
      for (const [name, call, inLen, outLen] of cases) {
        for (const v of [HALF + 1, -HALF - 1, 2 ** 31 - 1]) {
          const bad = randCentred(inLen, r);
          bad[inLen - 1] = v;
          const out = new Int32Array(outLen).fill(7);
          assert.throws(() => call(bad, out), (e: unknown) => e instanceof RangeError && /centred/.test(e.message), name);
          assert.ok(out.every((x) => x === 7), `${name}: output written`);
        }
      }
    });

    it('conv results do not depend on how many images share one GEMM', () => {
      const g = convGeometry({ batch: 5, inC: 3, inH: 7, inW: 6, outC: 4, kH: 3, kW: 2, stride: 2, pad: 1 });
      const s = convSizes(g);
      const r = rng(21);
      const [x, w, dy] = [randCentred(s.input, r), randCentred(s.weight, r), randCentred(s.output, r)];
      const [xf, wf, dyf] = [randF32(s.input, r), randF32(s.weight, r), randF32(s.output, r)];
      const want = [refConv(g, x, w, true).val, refConvGradInput(g, dy, w, true).val, refConvGradWeight(g, dy, x, true).val];
      const f32 = (group: number): Float32Array[] => {
        addon.setConvGroup(group);
        const out = [new Float32Array(s.output), new Float32Array(s.input), new Float32Array(s.weight)];
        addon.conv2dF32(g, xf, wf, out[0]);
        addon.conv2dGradInputF32(g, dyf, wf, out[1]);
        addon.conv2dGradWeightF32(g, dyf, xf, out[2]);
        return out;
      };
      try {
        const base = f32(1);
        for (const group of [1, 2, 3, 5, 0]) {
          addon.setConvGroup(group);
          const out = [new Int32Array(s.output), new Int32Array(s.input), new Int32Array(s.weight)];
          addon.conv2dModP(g, x, w, out[0]);
          addon.conv2dGradInputModP(g, dy, w, out[1]);
          addon.conv2dGradWeightModP(g, dy, x, out[2]);
          out.forEach((o, i) => assertExact(`group ${group} op ${i}`, o, want[i]));
          f32(group).forEach((o, i) => o.forEach((v, j) => assert.ok(Math.abs(v - base[i][j]) <= 1e-5, `f32 group ${group} op ${i}`)));
        }
      } finally {
        addon.setConvGroup(0);
      }
    });

    it('mod-P convs are exact at ±HALF on every internal chunking path, also at a 64 KiB workspace', () => {
      // Paths of native/src/conv.cc: K = C·kH·kW split in 3 chunks; O > 8192 split
      // inside the grad-input GEMM; O·kH·kW > 8192 (dcol reduced before col2im);
      // one image with OH·OW > 8192 (grad-weight chunks inside a group).
      const cases: Array<[string, ConvGeometry]> = [
        ['C·kH·kW = 20000', convGeometry({ batch: 1, inC: 20000, inH: 1, inW: 2, outC: 2, k: 1 })],
        ['O = 8200', convGeometry({ batch: 1, inC: 2, inH: 2, inW: 2, outC: 8200, k: 1 })],
        ['O·kH·kW = 18000', convGeometry({ batch: 1, inC: 2, inH: 5, inW: 5, outC: 2000, k: 3, pad: 1 })],
        ['OH·OW = 10000', convGeometry({ batch: 2, inC: 1, inH: 100, inW: 100, outC: 1, k: 1 })],
      ];
      // Magnitudes HALF or HALF − 1, all of one sign: partial sums of mixed parity
      // beyond 2^53 would have to round, so any missing reduction shows.
      const fill = (n: number, sign: number, seed: number) =>
        Int32Array.from({ length: n }, (_, i) => sign * (HALF - ((i + seed) % 3 === 1 ? 1 : 0)));
      for (const [label, g] of cases) {
        const s = convSizes(g);
        const x = fill(s.input, 1, 0);
        const w = fill(s.weight, 1, 7);
        const dy = fill(s.output, -1, 13);
        const want = [refConv(g, x, w, true).val, refConvGradInput(g, dy, w, true).val, refConvGradWeight(g, dy, x, true).val];
        for (const be of [createNativeBackend(), createNativeBackend({ workspaceBytes: 64 * 1024 })]) {
          const [y, dx, dw] = [new Int32Array(s.output), new Int32Array(s.input), new Int32Array(s.weight)];
          be.conv2dModP(g, x, w, y);
          be.conv2dGradInputModP(g, dy, w, dx);
          be.conv2dGradWeightModP(g, dy, x, dw);
          const at = `${label}, limit ${be.workspaceBytes}`;
          assertExact(`${at} forward`, y, want[0]);
          assertExact(`${at} grad-input`, dx, want[1]);
          assertExact(`${at} grad-weight`, dw, want[2]);
        }
      }
    });

    it('im2col matches its index formula and col2im is its adjoint (f32 and f64)', () => {
      const g = convGeometry({ batch: 2, inC: 2, inH: 5, inW: 4, outC: 1, kH: 3, kW: 2, strideH: 2, strideW: 1, padH: 1, padW: 2 });
      const [OH, OW] = [convOutH(g), convOutW(g)];
      const s = convSizes(g);
      const cols = s.patch * g.batch * OH * OW;
      const r = rng(4);
      for (const T of [Float32Array, Float64Array]) {
        const x = T.from(randF32(s.input, r));
        const col = new T(cols).fill(99);
        addon.im2col(g, x, col);
        for (let c = 0; c < g.inC; c++)
          for (let i = 0; i < g.kH; i++)
            for (let j = 0; j < g.kW; j++)
              for (let n = 0; n < g.batch; n++)
                for (let oh = 0; oh < OH; oh++)
                  for (let ow = 0; ow < OW; ow++) {
                    const ih = oh * g.strideH - g.padH + i;
                    const iw = ow * g.strideW - g.padW + j;
                    const inside = ih >= 0 && ih < g.inH && iw >= 0 && iw < g.inW;
                    const want = inside ? x[((n * g.inC + c) * g.inH + ih) * g.inW + iw] : 0;
                    const row = (c * g.kH + i) * g.kW + j;
                    assert.equal(col[row * g.batch * OH * OW + (n * OH + oh) * OW + ow], want);
                  }
        const u = T.from(randF32(cols, r));
        const back = new T(s.input).fill(5);
        addon.col2im(g, u, back);
        let lhs = 0;
        let rhs = 0;
        for (let q = 0; q < cols; q++) lhs += col[q] * u[q];
        for (let q = 0; q < s.input; q++) rhs += x[q] * back[q];
        assert.ok(Math.abs(lhs - rhs) <= 1e-4 * (1 + Math.abs(lhs)), `<im2col x, u> = ${lhs}, <x, col2im u> = ${rhs}`);
      }
    });

    it('dgemm is exact on integer operands up to 2^53 and the workspace can be released', () => {
      const k = 8192;
      const a = new Float64Array(k).fill(HALF);
      const c = new Float64Array(1);
      addon.dgemm(1, k, 1, false, false, a, a, c);
      assert.equal(BigInt(c[0]), BigInt(k) * BigInt(HALF) ** 2n);
      const m = new Int32Array(64 * 64).fill(3);
      const out = new Int32Array(64 * 64);
      addon.gemmModP(64, 64, 64, false, false, m, m, out);
      assert.ok(addon.info().scratchBytes > 0);
      addon.releaseScratch();
      assert.equal(addon.info().scratchBytes, 0);
      addon.gemmModP(64, 64, 64, false, false, m, m, out);
      assert.ok(out.every((v) => v === 64 * 9));
    });
  });
  describe('native workspace limit', () => {
    const KiB = 1024;
    const MiB = 1024 * KiB;
    // 0: every call takes its smallest pieces (and frees them on return).
    const LIMITS = [0, 4 * KiB, 64 * KiB, 1 * MiB, DEFAULT_NATIVE_WORKSPACE_BYTES, Infinity];
    const backends = (): NativeBackend[] => LIMITS.map((l) => createNativeBackend({ workspaceBytes: l }));

    /** Held bytes are within the limit; the peak only above it when a piece could not be split. */
    function assertHeldWithin(be: NativeBackend, label: string): void {
      const info = be.info();
      assert.equal(info.workspaceLimit, Math.min(be.workspaceBytes, 2 ** 53), label);
      assert.ok(info.scratchBytes <= info.workspaceLimit, `${label}: holds ${info.scratchBytes} B above the limit ${info.workspaceLimit}`);
    }

    it('mod-P convs are bitwise equal for every limit (odd shapes, batch not a multiple of the group)', () => {
      const geometries: ConvGeometry[] = [
        convGeometry({ batch: 7, inC: 24, inH: 9, inW: 7, outC: 40, k: 3, pad: 1 }),
        convGeometry({ batch: 5, inC: 13, inH: 11, inW: 10, outC: 9, kH: 3, kW: 2, strideH: 2, strideW: 1, padH: 1, padW: 0 }),
        convGeometry({ batch: 11, inC: 70, inH: 3, inW: 3, outC: 66, k: 3, pad: 1 }),
        convGeometry({ batch: 3, inC: 1, inH: 31, inW: 29, outC: 5, k: 5, stride: 2, pad: 2 }),
      ];
      const bes = backends();
      const r = rng(77);
      for (const g of geometries) {
        const s = convSizes(g);
        const [x, w, dy] = [randCentred(s.input, r), randCentred(s.weight, r), randCentred(s.output, r)];
        const want = [refConv(g, x, w, true).val, refConvGradInput(g, dy, w, true).val, refConvGradWeight(g, dy, x, true).val];
        for (const be of bes) {
          const out = [new Int32Array(s.output), new Int32Array(s.input), new Int32Array(s.weight)];
          be.conv2dModP(g, x, w, out[0]);
          be.conv2dGradInputModP(g, dy, w, out[1]);
          be.conv2dGradWeightModP(g, dy, x, out[2]);
          const at = `${g.batch}×${g.inC}→${g.outC} ${g.inH}×${g.inW}, limit ${be.workspaceBytes}`;
          out.forEach((o, i) => assertExact(`${at} op ${i}`, o, want[i]));
          assertHeldWithin(be, at);
        }
      }
    });

    it('mod-P GEMMs are bitwise equal for every limit (odd shapes, all transpositions, K > 8192)', () => {
      const bes = backends();
      const r = rng(78);
      const shapes: Array<[number, number, number]> = [
        [37, 300, 53],
        [1, 9000, 3],
        [129, 65, 1],
        [70, 0, 9],
      ];
      for (const [m, k, n] of shapes) {
        const a = randCentred(m * k, r);
        const b = randCentred(k * n, r);
        const want = refGemmModP(m, k, n, a, b);
        for (const transA of [false, true])
          for (const transB of [false, true]) {
            const [A, B] = [layout(a, m, k, transA), layout(b, k, n, transB)];
            for (const be of bes) {
              const c = new Int32Array(m * n).fill(5);
              be.gemmModP({ m, k, n, transA, transB }, A, B, c);
              const at = `${m}×${k}×${n} tA=${transA} tB=${transB}, limit ${be.workspaceBytes}`;
              assertExact(at, c, want);
              assertHeldWithin(be, at);
            }
          }
      }
    });

    it('float32 kernels are deterministic for a fixed limit and close across limits', () => {
      const g = convGeometry({ batch: 9, inC: 21, inH: 10, inW: 9, outC: 17, k: 3, pad: 1 });
      const s = convSizes(g);
      const r = rng(79);
      const [x, w, dy] = [randF32(s.input, r), randF32(s.weight, r), randF32(s.output, r)];
      const [ga, gb] = [randF32(40 * 333, r), randF32(333 * 50, r)];
      const run = (be: NativeBackend): Float32Array[] => {
        const out = [new Float32Array(s.output), new Float32Array(s.input), new Float32Array(s.weight), new Float32Array(40 * 50)];
        be.conv2dF32(g, x, w, out[0]);
        be.conv2dGradInputF32(g, dy, w, out[1]);
        be.conv2dGradWeightF32(g, dy, x, out[2]);
        be.gemmF32({ m: 40, k: 333, n: 50 }, ga, gb, out[3]);
        return out;
      };
      const bes = backends();
      const base = run(bes[bes.length - 1]);
      for (const be of bes) {
        const first = run(be);
        const again = run(be);
        first.forEach((o, i) => {
          assert.deepEqual(again[i], o, `limit ${be.workspaceBytes} op ${i}: not deterministic`);
          o.forEach((v, j) => assert.ok(Math.abs(v - base[i][j]) <= 1e-4 * (1 + Math.abs(base[i][j])), `limit ${be.workspaceBytes} op ${i}[${j}]`));
        });
        assertHeldWithin(be, `f32, limit ${be.workspaceBytes}`);
      }
    });

    it('VGG-sized convs keep the workspace within the limit; an unbounded one holds more', () => {
      // The bench layer (128→128, 16×16) and VGG-11's 512→512 at 4×4, whose float64
      // weights (18.9 MB) alone exceed the default limit; batch 32 as in training.
      const geometries = [
        convGeometry({ batch: 32, inC: 128, inH: 16, inW: 16, outC: 128, k: 3, pad: 1 }),
        convGeometry({ batch: 32, inC: 512, inH: 4, inW: 4, outC: 512, k: 3, pad: 1 }),
      ];
      const r = rng(80);
      {
        const limit = DEFAULT_NATIVE_WORKSPACE_BYTES;
        const be = createNativeBackend({ workspaceBytes: limit });
        be.releaseScratch();
        for (const g of geometries) {
          const s = convSizes(g);
          const [x, w, dy] = [randCentred(s.input, r), randCentred(s.weight, r), randCentred(s.output, r)];
          be.conv2dModP(g, x, w, new Int32Array(s.output));
          be.conv2dGradInputModP(g, dy, w, new Int32Array(s.input));
          be.conv2dGradWeightModP(g, dy, x, new Int32Array(s.weight));
          const [xf, wf, dyf] = [randF32(s.input, r), randF32(s.weight, r), randF32(s.output, r)];
          be.conv2dF32(g, xf, wf, new Float32Array(s.output));
          be.conv2dGradInputF32(g, dyf, wf, new Float32Array(s.input));
          be.conv2dGradWeightF32(g, dyf, xf, new Float32Array(s.weight));
          const info = be.info();
          const at = `${g.inC}→${g.outC} ${g.inH}×${g.inW}, limit ${limit}`;
          assert.ok(info.scratchBytes > 0 && info.scratchBytes <= limit, `${at}: holds ${info.scratchBytes} B`);
          // Nothing here is indivisible: the limit held during the calls too.
          assert.ok(info.scratchPeakBytes <= limit, `${at}: peak ${info.scratchPeakBytes} B`);
        }
      }
      const unbounded = createNativeBackend({ workspaceBytes: Infinity });
      unbounded.releaseScratch();
      const g = geometries[1];
      const s = convSizes(g);
      unbounded.conv2dGradWeightModP(g, randCentred(s.output, r), randCentred(s.input, r), new Int32Array(s.weight));
      assert.ok(unbounded.info().scratchBytes > DEFAULT_NATIVE_WORKSPACE_BYTES, 'an unbounded grad-weight holds its whole float64 dW');
      // A backend with a smaller limit shrinks the thread's workspace on its next call.
      createNativeBackend({ workspaceBytes: MiB }).gemmModP({ m: 2, k: 2, n: 2 }, new Int32Array(4), new Int32Array(4), new Int32Array(4));
      assert.ok(unbounded.info().scratchBytes <= MiB);
    });

    it('a piece larger than the limit takes what it needs, is freed on return and shows in the peak', () => {
      const be = createNativeBackend({ workspaceBytes: 1024 });
      be.releaseScratch();
      // One image's float64 output (O × OH·OW, summed over channel blocks): 200·64 doubles = 100 KiB.
      const g = convGeometry({ batch: 3, inC: 2, inH: 8, inW: 8, outC: 200, k: 1 });
      const s = convSizes(g);
      const r = rng(81);
      const [x, w] = [randCentred(s.input, r), randCentred(s.weight, r)];
      const y = new Int32Array(s.output);
      be.conv2dModP(g, x, w, y);
      assertExact('over-limit forward', y, refConv(g, x, w, true).val);
      const info = be.info();
      assert.equal(info.scratchBytes, 0);
      assert.ok(info.scratchPeakBytes >= 200 * 64 * 8, `peak ${info.scratchPeakBytes}`);
    });

    it('limits: option and GOTEN_NATIVE_WORKSPACE_MIB are validated', () => {
      assert.equal(createNativeBackend().workspaceBytes, defaultWorkspaceBytes());
      assert.equal(defaultWorkspaceBytes({}), 16 * MiB);
      assert.equal(defaultWorkspaceBytes({ GOTEN_NATIVE_WORKSPACE_MIB: ' 8 ' }), 8 * MiB);
      assert.equal(defaultWorkspaceBytes({ GOTEN_NATIVE_WORKSPACE_MIB: '0.0625' }), 64 * KiB);
      assert.equal(defaultWorkspaceBytes({ GOTEN_NATIVE_WORKSPACE_MIB: 'Infinity' }), Infinity);
      for (const bad of ['x', '-1', 'NaN'])
        assert.throws(() => defaultWorkspaceBytes({ GOTEN_NATIVE_WORKSPACE_MIB: bad }), /GOTEN_NATIVE_WORKSPACE_MIB/);
      for (const bad of [-1, 1.5, Number.NaN]) assert.throws(() => createNativeBackend({ workspaceBytes: bad }), RangeError);
      assert.throws(() => addon.setWorkspaceLimit(-1), RangeError);
      assert.throws(() => addon.setWorkspaceLimit('1' as never), TypeError);
    });
  });
}
