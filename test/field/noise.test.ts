// NoiseStream (src/field/noise.ts): the documented construction, addressability, and statistical
// sanity of the rounding noise. Chi-square tests use fixed keys at α = 0.001 (deterministic
// outcome; a correct generator fails a given seed with probability 0.001 per statistic).
// The native kernels are pinned to this reference in test/protocol/enclave-kernels.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { NoiseStream, mix32, noiseStreamKeys, noiseWord } from '../../src/field/noise.js';
import { deriveStreamKey } from '../../src/field/prg.js';
import { quantize } from '../../src/field/quantize.js';
import { chi2Threshold } from './helpers.js';

const KEY = deriveStreamKey(new Uint8Array(32).map((_, i) => (i * 53 + 7) & 0xff), 'noise-test');
const N = 1 << 20;

/** lowbias32 in BigInt arithmetic, as written in the module comment. */
function mixBig(x: bigint): bigint {
  const M = (1n << 32n) - 1n;
  x ^= x >> 16n;
  x = (x * 0x7feb352dn) & M;
  x ^= x >> 15n;
  x = (x * 0x846ca68bn) & M;
  return x ^ (x >> 16n);
}

test('construction: (k0, k1) = the first AES-CTR block of (key, id); w_i = mix(mix(i + k0) ⊕ k1); g = (w >>> 8)·2^−24', () => {
  const id = 0x0123456789abcdefn;
  const iv = Buffer.alloc(16);
  iv.writeBigUInt64BE(id, 0);
  const block = createCipheriv('aes-128-ctr', KEY, iv).update(Buffer.alloc(16));
  const [k0, k1] = noiseStreamKeys(KEY, id);
  assert.deepEqual([k0, k1], [block.readUInt32LE(0), block.readUInt32LE(4)]);
  const g = NoiseStream.open(KEY, id).fillNoise(new Float64Array(300));
  for (let i = 0; i < 300; i++) {
    const w = mixBig(mixBig((BigInt(i) + BigInt(k0)) & 0xffffffffn) ^ BigInt(k1));
    assert.equal(noiseWord(k0, k1, i), Number(w));
    assert.equal(g[i], Number(w >> 8n) / 2 ** 24, `g_${i}`);
  }
  assert.equal(mix32(0), 0);
  assert.equal(mix32(1) >>> 0, Number(mixBig(1n)));
});

test('addressable: pieces, seek and float32 give the same values as one read', () => {
  const whole = NoiseStream.open(KEY, 5n).fillNoise(new Float64Array(50_000));
  const s = NoiseStream.open(KEY, 5n);
  const pieces = new Float64Array(50_000);
  for (let at = 0, k = 0; at < pieces.length; k++) {
    const len = Math.min(pieces.length - at, [1, 15, 17, 1024, 4097][k % 5]);
    s.fillNoise(pieces, at, len);
    at += len;
  }
  assert.deepEqual(pieces, whole);
  assert.equal(s.position, 50_000);
  assert.deepEqual(NoiseStream.open(KEY, 5n).seek(12_345).fillNoise(new Float64Array(100)), whole.subarray(12_345, 12_445));
  assert.deepEqual(Float64Array.from(NoiseStream.open(KEY, 5n).fillNoise(new Float32Array(50_000))), whole);
  assert.notDeepEqual(NoiseStream.open(KEY, 6n).fillNoise(new Float64Array(100)), whole.subarray(0, 100));
  const end = NoiseStream.open(KEY, 5n).seek(2 ** 32 - 3);
  end.fillNoise(new Float64Array(3));
  assert.throws(() => end.fillNoise(new Float64Array(1)), RangeError);
  assert.throws(() => NoiseStream.open(KEY, 5n).seek(-1), RangeError);
  assert.throws(() => NoiseStream.open(new Uint8Array(15), 0n), TypeError);
  assert.throws(() => NoiseStream.open(KEY, 1n << 64n), RangeError);
});

/** Chi-square statistic of counts against equal expected counts. */
function chi2(hist: Float64Array, n: number): number {
  const e = n / hist.length;
  let s = 0;
  for (const h of hist) s += (h - e) ** 2 / e;
  return s;
}

test('statistics of one stream: on the grid, mean ½, variance 1/12, uniform top, low and serial bits', () => {
  const g = NoiseStream.open(KEY, 77n).fillNoise(new Float64Array(N));
  const top = new Float64Array(256);
  const low = new Float64Array(256); // the lowest 8 of the 24 grid bits: the weakest bits of a multiply hash
  const pairs = new Float64Array(256); // (g_i, g_{i+1}) in 16 × 16 cells
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < N; i++) {
    const v = g[i] * 2 ** 24;
    if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 24)) assert.fail(`g_${i} = ${g[i]} is off the grid`);
    top[v >>> 16]++;
    low[v & 255]++;
    if (i + 1 < N) pairs[((v >>> 20) << 4) | ((g[i + 1] * 16) | 0)]++;
    sum += g[i];
    sq += (g[i] - 0.5) ** 2;
  }
  // sd of the mean = sqrt(1/12/N) ≈ 2.8e−4: 6 sd; of the variance ≈ sqrt(1/180/N) ≈ 7.3e−5: 6 sd
  assert.ok(Math.abs(sum / N - 0.5) < 6 * Math.sqrt(1 / 12 / N), `mean ${sum / N}`);
  assert.ok(Math.abs(sq / N - 1 / 12) < 6 * Math.sqrt(1 / 180 / N), `variance ${sq / N}`);
  const limit = chi2Threshold(255);
  for (const [name, h, n] of [['top 8 bits', top, N], ['low 8 bits', low, N], ['consecutive pairs', pairs, N - 1]] as const) {
    const x = chi2(h, n);
    assert.ok(x < limit, `${name}: chi-square ${x.toFixed(1)} ≥ ${limit.toFixed(1)}`);
  }
});

test('statistics across streams: neighbouring ids, and counters offset by one under different k1, look independent', () => {
  const limit = chi2Threshold(255);
  const cells = (a: Float64Array, b: Float64Array): number => {
    const h = new Float64Array(256);
    for (let i = 0; i < a.length; i++) h[((a[i] * 16) << 4) | ((b[i] * 16) | 0)]++;
    return chi2(h, a.length);
  };
  const n = N >> 2;
  const a = NoiseStream.open(KEY, 1000n).fillNoise(new Float64Array(n));
  const b = NoiseStream.open(KEY, 1001n).fillNoise(new Float64Array(n));
  const x = cells(a, b);
  assert.ok(x < limit, `ids 1000/1001: chi-square ${x.toFixed(1)}`);
  // Worst case of the construction: two streams whose k0 differ by 1 (shifted counters) and whose k1 differ in one bit.
  const [k0, k1] = noiseStreamKeys(KEY, 3n);
  const c = new Float64Array(n);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    c[i] = (noiseWord(k0, k1, i + 1) >>> 8) / 2 ** 24;
    d[i] = (noiseWord(k0 + 1, (k1 ^ 1) >>> 0, i) >>> 8) / 2 ** 24;
  }
  const y = cells(c, d);
  assert.ok(y < limit, `shifted counters: chi-square ${y.toFixed(1)}`);
});

test('stochastic rounding with the noise is unbiased: E[q] = x·2^(6−e) for fractional values', () => {
  const n = 1 << 18;
  const out = new Int32Array(n);
  for (const [frac, id] of [[0.3, 1n], [0.5, 2n], [0.9, 3n], [1 / 1024, 4n]] as const) {
    const x = new Float64Array(n).fill(frac); // e = −1 … −10: x·2^(6−e) = 2^(6−e)·frac
    const e = quantize(x, NoiseStream.open(KEY, id), out);
    const want = frac * 2 ** (6 - e);
    let sum = 0;
    for (const q of out) sum += q;
    // q ∈ {⌊want⌋, ⌊want⌋ + 1}: sd of the mean ≤ 0.5/sqrt(n) ≈ 1e−3; 6 sd
    assert.ok(Math.abs(sum / n - want) < 6 * 0.5 / Math.sqrt(n), `frac ${frac}: mean ${sum / n}, want ${want}`);
  }
});
