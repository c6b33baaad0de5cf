/**
 * Runs the backend conformance suite on the pure-TypeScript reference backend,
 * plus checks specific to it (centred-operand validation, im2col/col2im).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convGeometry, convOutH, convOutW } from '../../src/tensor/geometry.js';
import { createJsBackend } from '../../src/backend/js/index.js';
import { HALF } from '../../src/field/prime.js';
import { col2imAdd, im2col } from '../../src/backend/js/im2col.js';
import { runBackendConformance } from './conformance.js';
import { randF32, rng } from './conformance-ref.js';

runBackendConformance('js', createJsBackend);

describe('js backend specifics', () => {
  it('mod-P kernels reject operands that are not centred, naming the element', () => {
    const be = createJsBackend();
    const ok = new Int32Array([1, 2, 3, 4]);
    const c = new Int32Array(4);
    for (const bad of [HALF + 1, -HALF - 1, 2 ** 31 - 1, -(2 ** 31)]) {
      assert.throws(
        () => be.gemmModP({ m: 2, k: 2, n: 2 }, new Int32Array([0, 0, bad, 0]), ok, c),
        (e: unknown) => e instanceof RangeError && /'a'\[2\]/.test(e.message) && /centred/.test(e.message),
      );
      assert.throws(() => be.gemmModP({ m: 2, k: 2, n: 2 }, ok, new Int32Array([bad, 0, 0, 0]), c), /'b'\[0\]/);
    }
    const g = convGeometry({ batch: 1, inC: 1, inH: 3, inW: 3, outC: 1, k: 3 });
    assert.throws(() => be.conv2dModP(g, new Int32Array(9).fill(HALF + 1), new Int32Array(9), new Int32Array(1)), /'x'\[0\]/);
    be.gemmModP({ m: 2, k: 2, n: 2 }, new Int32Array([HALF, -HALF, 0, 1]), ok, c); // the bounds themselves are fine
  });

  it('im2col and col2im are adjoint: <im2col(x), c> = <x, col2im(c)>', () => {
    const r = rng(42);
    for (const g of [
      convGeometry({ batch: 1, inC: 2, inH: 7, inW: 5, outC: 1, kH: 3, kW: 2, strideH: 2, strideW: 1, padH: 1, padW: 2 }),
      convGeometry({ batch: 1, inC: 3, inH: 6, inW: 6, outC: 1, k: 2, stride: 3, pad: 2 }),
    ]) {
      const rows = g.inC * g.kH * g.kW;
      const S = convOutH(g) * convOutW(g);
      const x = Float64Array.from(randF32(g.inC * g.inH * g.inW, r));
      const c = Float64Array.from(randF32(rows * S, r));
      // im2col into a wider matrix (ld = S + 3, column offset 2) to exercise both.
      const ld = S + 3;
      const cols = new Float64Array(rows * ld).fill(Number.NaN);
      im2col(g, x, 0, cols, 2, ld);
      let lhs = 0;
      for (let q = 0; q < rows; q++) for (let s = 0; s < S; s++) lhs += cols[2 + q * ld + s] * c[q * S + s];
      const back = new Float64Array(x.length);
      col2imAdd(g, c, 0, S, back, 0);
      let rhs = 0;
      for (let i = 0; i < x.length; i++) rhs += x[i] * back[i];
      assert.ok(Math.abs(lhs - rhs) <= 1e-12 * (1 + Math.abs(lhs)), `${lhs} vs ${rhs}`);
      for (let q = 0; q < rows; q++) assert.ok(Number.isNaN(cols[q * ld]) && Number.isNaN(cols[q * ld + 1]));
    }
  });
});
