// SWALP quantizer and dequantizer: exact exponents, range, unbiasedness, determinism, edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HALF } from '../../src/field/prime.js';
import { FieldStream, deriveStreamKey } from '../../src/field/prg.js';
import {
  EXP_MIN,
  EXP_MAX,
  Q_MIN,
  Q_MAX,
  pow2,
  exponentOf,
  maxAbs,
  tensorExponent,
  quantize,
  quantizeInto,
  dequantize,
} from '../../src/field/quantize.js';

const KEY = deriveStreamKey(new Uint8Array(32).fill(3), 'noise');

/** 2^k by repeated exact doubling/halving: an independent reference for pow2. */
function twoTo(k: number): number {
  let v = 1;
  for (let i = 0; i < Math.abs(k); i++) v = k > 0 ? v * 2 : v / 2;
  return v;
}

/** The largest double below v > 0 (v normal). */
function below(v: number): number {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, v);
  b.setBigUint64(0, b.getBigUint64(0) - 1n);
  return b.getFloat64(0);
}

test('pow2 is exactly 2^k over the whole double range', () => {
  for (let k = -1074; k <= 1023; k++) if (pow2(k) !== twoTo(k)) assert.fail(`pow2(${k})`);
  assert.equal(pow2(-1074), Number.MIN_VALUE);
  assert.throws(() => pow2(1024), RangeError);
  assert.throws(() => pow2(0.5), RangeError);
});

test('exponentOf: exact at and just below powers of two, clamps tiny values, rejects huge and non-finite', () => {
  for (let k = EXP_MIN; k <= EXP_MAX; k++) {
    const v = twoTo(k);
    assert.equal(exponentOf(v), k, `2^${k}`);
    assert.equal(exponentOf(below(twoTo(k + 1))), k, `2^${k + 1} − ulp`);
    assert.equal(exponentOf(v * 1.5), k);
  }
  assert.equal(exponentOf(0), 0);
  assert.equal(exponentOf(twoTo(-127)), EXP_MIN);
  assert.equal(exponentOf(twoTo(-149)), EXP_MIN); // smallest float32 subnormal
  assert.equal(exponentOf(Number.MIN_VALUE), EXP_MIN); // smallest float64 subnormal
  assert.equal(exponentOf(3.4028234663852886e38), 127); // largest float32
  assert.throws(() => exponentOf(twoTo(128)), RangeError);
  assert.throws(() => exponentOf(Infinity), TypeError);
  assert.throws(() => exponentOf(NaN), TypeError);
  assert.throws(() => exponentOf(-1), TypeError);
  // The tensor exponent uses |x|: a negative power of two sets it exactly.
  assert.equal(tensorExponent(Float32Array.of(0.25, -8, 7.99)), 3);
  assert.equal(tensorExponent(new Float32Array(5)), 0);
  assert.equal(tensorExponent(new Float64Array(0)), 0);
});

test('non-finite input is refused with its index; too-large float64 input is refused', () => {
  assert.throws(() => maxAbs(Float32Array.of(1, 2, NaN, 3)), /non-finite value \(NaN at index 2\)/);
  assert.throws(() => maxAbs(Float64Array.of(-Infinity)), /non-finite value \(-Infinity at index 0\)/);
  const out = new Int32Array(2);
  assert.throws(() => quantizeInto(Float32Array.of(1, Infinity), new Float64Array(2), out), TypeError);
  assert.throws(() => quantize(Float64Array.of(2 ** 200, 1), FieldStream.open(KEY, 0n), out), RangeError);
  assert.throws(() => quantizeInto(Float32Array.of(1, 2), new Float64Array(2), out, 128), RangeError);
  assert.throws(() => quantizeInto(Float32Array.of(1, 2), new Float64Array(3), out), RangeError);
});

test('known values: scale 2^(6−e), floor after adding the noise, clamp at 127', () => {
  const x = Float32Array.of(1, 0.5, -1, 0.75, -0.0078125, 1.9999999);
  const out = new Int32Array(x.length);
  assert.equal(quantizeInto(x, new Float64Array(x.length), out), 0);
  assert.deepEqual(Array.from(out), [64, 32, -64, 48, -1, 127]);
  const g = new Float64Array(x.length).fill(1 - 2 ** -24);
  quantizeInto(x, g, out);
  assert.deepEqual(Array.from(out), [64, 32, -64, 48, 0, 127]); // −0.5 + g → 0; 127.99… + g → 128 → 127
  quantizeInto(Float32Array.of(0.3, -0.3), Float64Array.of(0.2, 0.2), out.subarray(0, 2), -2); // s = 256
  // fround(0.3)·256 = 76.8000031: floor(77.0000031) = 77, floor(−76.6000031) = −77.
  assert.deepEqual(Array.from(out.subarray(0, 2)), [77, -77]);
});

test('outputs stay in [−128, 127] for tensors of every magnitude, with the exact exponent', () => {
  const s = FieldStream.open(KEY, 1n);
  const n = 4096;
  const noise = new Float64Array(n);
  const out = new Int32Array(n);
  for (const k of [-149, -140, -126, -60, -1, 0, 1, 30, 100, 127]) {
    const x = new Float32Array(n);
    s.fillNoise(noise); // reuse as a random source for the data
    for (let i = 0; i < n; i++) x[i] = (noise[i] * 2 - 1) * twoTo(k) * 1.999;
    x[17] = k >= -126 ? -twoTo(k) * 1.999 : x[17];
    const e = quantizeInto(x, s.fillNoise(noise), out);
    assert.equal(e, exponentOf(maxAbs(x)));
    assert.ok(e >= EXP_MIN && e <= EXP_MAX);
    for (let i = 0; i < n; i++) if (out[i] < Q_MIN || out[i] > Q_MAX) assert.fail(`k=${k}: q=${out[i]}`);
  }
  // A caller-supplied exponent that is too small saturates at both ends.
  quantizeInto(Float32Array.of(1000, -1000), new Float64Array(2), out.subarray(0, 2), 0);
  assert.deepEqual(Array.from(out.subarray(0, 2)), [127, -128]);
});

test('all-zero tensor: exponent 0, all-zero output, whatever the noise', () => {
  const x = new Float32Array(1000);
  const out = new Int32Array(1000).fill(9);
  assert.equal(quantize(x, FieldStream.open(KEY, 2n), out), 0);
  assert.ok(out.every((v) => v === 0));
  assert.ok(dequantize(out, 0, new Float32Array(1000)).every((v) => v === 0));
});

test('stochastic rounding is unbiased: the mean of dequantized draws converges to x', () => {
  const n = 2000;
  const rounds = 400;
  const x = new Float32Array(n);
  FieldStream.open(KEY, 3n).fillNoise(x);
  for (let i = 0; i < n; i++) x[i] = x[i] * 2 - 1; // (−1, 1), mostly not on the 2^−6 grid
  x[0] = 1; // max |x| = 1 → e = 0, scale 64, |x·64| ≤ 64: the clamp never bites
  const sum = new Float64Array(n);
  const q = new Int32Array(n);
  const deq = new Float32Array(n);
  const noise = FieldStream.open(KEY, 4n);
  for (let r = 0; r < rounds; r++) {
    assert.equal(quantize(x, noise, q), 0);
    dequantize(q, 6, deq); // one operand's scale: 2^(e − 6) = 2^(6 − 12)
    for (let i = 0; i < n; i++) sum[i] += deq[i];
  }
  // Each draw's error is in (−2^−6, 2^−6) with sd ≤ 2^−7; the mean of 400 has sd ≤ 2^−7/20.
  let total = 0;
  for (let i = 0; i < n; i++) {
    const err = sum[i] / rounds - x[i];
    total += err;
    if (Math.abs(err) > (6 * 2 ** -7) / 20) assert.fail(`element ${i}: bias ${err}`);
  }
  assert.ok(Math.abs(total / n) < (6 * 2 ** -7) / 20 / Math.sqrt(n), `average bias ${total / n}`);
  // Control: nearest rounding (g = 1/2 throughout) fails the same per-element bound.
  quantizeInto(x, new Float64Array(n).fill(0.5), q);
  dequantize(q, 6, deq);
  let biased = 0;
  for (let i = 0; i < n; i++) if (Math.abs(deq[i] - x[i]) > (6 * 2 ** -7) / 20) biased++;
  assert.ok(biased > n / 2, `${biased} of ${n} elements visibly biased under nearest rounding`);
});

test('deterministic: quantize(stream) ≡ quantizeInto(pre-drawn noise, f64 or f32) ≡ a pinned digest', () => {
  const n = 10_000;
  const x = new Float32Array(n);
  FieldStream.open(KEY, 5n).fillNoise(x);
  for (let i = 0; i < n; i++) x[i] = (x[i] - 0.5) * 3e-3;
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const c = new Int32Array(n);
  const ea = quantize(x, FieldStream.open(KEY, 6n), a);
  const eb = quantizeInto(x, FieldStream.open(KEY, 6n).fillNoise(new Float64Array(n)), b);
  const ec = quantizeInto(x, FieldStream.open(KEY, 6n).fillNoise(new Float32Array(n)), c);
  assert.equal(ea, -10); // 1.5e−3 ∈ [2^−10, 2^−9)
  assert.equal(eb, ea);
  assert.equal(ec, ea);
  assert.deepEqual(b, a);
  assert.deepEqual(c, a);
  const bytes = Buffer.alloc(4 * n);
  a.forEach((v, i) => bytes.writeInt32LE(v, 4 * i));
  assert.equal(createHash('sha256').update(bytes).digest('hex'), PINNED_Q_DIGEST);
});
// SHA-256 of the little-endian int32 output; any engine or platform must reproduce it.
const PINNED_Q_DIGEST = '9282402eba008393177278b35eb3056907d93c31a0b181fbffcb009cd18de623';

test('dequantize scales by exactly 2^(exponentSum − 12), into float32 or float64', () => {
  const c = Int32Array.of(0, 1, -1, 127 * 127, -128 * 127, HALF, -HALF, 12345);
  for (const es of [-252, -150, -40, -12, 0, 12, 40, 130]) {
    const k = es - 12;
    const f64 = dequantize(c, es, new Float64Array(c.length));
    const f32 = dequantize(c, es, new Float32Array(c.length));
    for (let i = 0; i < c.length; i++) {
      const want = c[i] * twoTo(k);
      assert.equal(f64[i], want, `f64 es=${es} c=${c[i]}`);
      if (Math.abs(want) === 0 || (Math.abs(want) >= twoTo(-126) && Math.abs(want) < 3.4e38)) {
        assert.equal(f32[i], want, `f32 es=${es} c=${c[i]}`); // exact in the normal float32 range
      } else {
        assert.equal(f32[i], Math.fround(want)); // IEEE rounding (subnormal / overflow) otherwise
      }
    }
  }
  assert.throws(() => dequantize(c, 0.5, new Float32Array(c.length)), RangeError);
  assert.throws(() => dequantize(c, 0, new Float32Array(2)), RangeError);
});
