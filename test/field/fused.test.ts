// Fused kernels equal the composition of the unfused ops they replace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HALF } from '../../src/field/prime.js';
import { FieldStream, deriveStreamKey } from '../../src/field/prg.js';
import { subModP, sumModP, countBeyond } from '../../src/field/share.js';
import { quantizeInto, dequantize } from '../../src/field/quantize.js';
import { quantizeShare, sumDequantize } from '../../src/field/fused.js';

const KEY = deriveStreamKey(new Uint8Array(32).fill(9), 'fused');
let nextId = 0n;
const centred = (n: number): Int32Array => FieldStream.open(KEY, nextId++).fillCentred(new Int32Array(n));
const noise = (n: number): Float64Array => FieldStream.open(KEY, nextId++).fillNoise(new Float64Array(n));

test('quantizeShare ≡ quantizeInto then subModP per mask (1, 2 or 3 masks, with and without q)', () => {
  for (const n of [0, 1, 7, 5000]) {
    const x = Float32Array.from(noise(n), (v) => (v - 0.5) * 37);
    const g = noise(n);
    const qRef = new Int32Array(n);
    const e = quantizeInto(x, g, qRef);
    for (const count of [1, 2, 3]) {
      const masks = Array.from({ length: count }, () => centred(n));
      const outs = masks.map(() => new Int32Array(n));
      for (const q of [null, new Int32Array(n)]) {
        assert.equal(quantizeShare(x, g, masks, outs, undefined, q), e);
        masks.forEach((m, k) => assert.deepEqual(outs[k], subModP(qRef, m, new Int32Array(n))));
        if (q) assert.deepEqual(q, qRef);
      }
    }
  }
  assert.throws(() => quantizeShare(new Float32Array(2), new Float64Array(2), [new Int32Array(2)], []), RangeError);
});

test('sumDequantize ≡ sumModP, countBeyond and dequantize (f32 and f64 outputs)', () => {
  for (const n of [1, 2048, 2049, 7000]) {
    const ins = Array.from({ length: 6 }, () => centred(n));
    const c = sumModP(ins, new Int32Array(n));
    for (const bound of [HALF, HALF >> 1, 1000]) {
      for (const es of [-20, 0, 9]) {
        const f32 = new Float32Array(n);
        const f64 = new Float64Array(n);
        assert.equal(sumDequantize(ins, es, f32, bound), countBeyond(c, bound));
        assert.equal(sumDequantize(ins, es, f64, bound), countBeyond(c, bound));
        assert.deepEqual(f32, dequantize(c, es, new Float32Array(n)));
        assert.deepEqual(f64, dequantize(c, es, new Float64Array(n)));
      }
    }
    // A single input is just dequantized.
    assert.equal(sumDequantize([ins[0]], 0, new Float64Array(n)), 0);
  }
  assert.throws(() => sumDequantize([], 0, new Float32Array(1)), RangeError);
  assert.throws(() => sumDequantize([new Int32Array(1)], 0, new Float32Array(1), HALF + 1), RangeError);
});
