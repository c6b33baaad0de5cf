// Elementwise mod-P array ops and 2-of-2 sharing against exact BigInt arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centredBig, rng } from './helpers.js';
import { P, HALF, reduceCentred } from '../../src/field/prime.js';
import {
  addModP,
  subModP,
  negModP,
  share,
  reconstruct,
  sumModP,
  reduceInto,
  isCentredArray,
  countBeyond,
} from '../../src/field/share.js';

const EDGES = [-HALF, -HALF + 1, -1, 0, 1, HALF - 1, HALF];

/** n centred values: first every edge pair, then uniform random ones. */
function operands(n: number, seed: number): [Int32Array, Int32Array] {
  const r = rng(seed);
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  let i = 0;
  for (const x of EDGES) for (const y of EDGES) if (i < n) (a[i] = x), (b[i++] = y);
  for (; i < n; i++) (a[i] = (r() % P) - HALF), (b[i] = (r() % P) - HALF);
  return [a, b];
}

test('addModP / subModP / negModP match BigInt (edges and random), in place too', () => {
  const n = 50_000;
  const [a, b] = operands(n, 3);
  const s = addModP(a, b, new Int32Array(n));
  const d = subModP(a, b, new Int32Array(n));
  const m = negModP(a, new Int32Array(n));
  for (let i = 0; i < n; i++) {
    const A = BigInt(a[i]);
    const B = BigInt(b[i]);
    if (s[i] !== centredBig(A + B) || d[i] !== centredBig(A - B) || m[i] !== centredBig(-A)) {
      assert.fail(`i=${i} a=${a[i]} b=${b[i]}: ${s[i]} ${d[i]} ${m[i]}`);
    }
  }
  const inPlace = a.slice();
  addModP(inPlace, b, inPlace);
  assert.deepEqual(inPlace, s);
  assert.throws(() => addModP(a, b.subarray(1), new Int32Array(n)), RangeError);
});

test('share then reconstruct is the identity; the share half is uniform-looking and centred', () => {
  const n = 20_000;
  const [x, r] = operands(n, 4);
  const x1 = share(x, r, new Int32Array(n));
  assert.ok(isCentredArray(x1));
  assert.deepEqual(reconstruct(r, x1, new Int32Array(n)), x);
  // 8-bit data shared with a uniform mask: the share is spread over the whole field.
  const q = x.map((v) => (v & 0xff) - 128);
  const q1 = share(q, r, new Int32Array(n));
  let big = 0;
  for (const v of q1) if (Math.abs(v) > HALF / 2) big++;
  assert.ok(big > n * 0.45 && big < n * 0.55, `${big} of ${n} shares beyond HALF/2`);
  assert.deepEqual(reconstruct(q1, r, new Int32Array(n)), q);
});

test('sumModP of 1, 2 and 6 inputs matches BigInt; aliasing rules', () => {
  const n = 5000 + 3; // crosses the internal block size with a ragged tail
  const ins: Int32Array[] = [];
  for (let k = 0; k < 6; k++) ins.push(operands(n, 10 + k)[k & 1]);
  for (const count of [1, 2, 6]) {
    const out = sumModP(ins.slice(0, count), new Int32Array(n));
    for (let i = 0; i < n; i++) {
      let t = 0n;
      for (let k = 0; k < count; k++) t += BigInt(ins[k][i]);
      if (out[i] !== centredBig(t)) assert.fail(`count=${count} i=${i}`);
    }
  }
  const acc = ins[0].slice();
  assert.deepEqual(sumModP([acc, ins[1], ins[2]], acc), sumModP([ins[0], ins[1], ins[2]], new Int32Array(n)));
  assert.throws(() => sumModP([ins[0], acc], acc), RangeError);
  assert.throws(() => sumModP([], new Int32Array(n)), RangeError);
});

test('reduceInto matches reduceCentred and BigInt for integers up to 2^53', () => {
  const r = rng(5);
  const n = 30_000;
  const src = new Float64Array(n);
  const edges = [0, 1, HALF, HALF + 1, P, 2 ** 53, 2 ** 53 - 1, 123456789 * P + HALF, 123456789 * P + HALF + 1];
  let i = 0;
  for (const e of edges) (src[i++] = e), (src[i++] = -e);
  for (; i < n; i++) {
    const v = (r() & 0x1fffff) * 2 ** 32 + r();
    src[i] = r() & 1 ? -v : v;
  }
  const out = reduceInto(src, new Int32Array(n));
  for (let j = 0; j < n; j++) {
    if (out[j] !== centredBig(BigInt(src[j])) || out[j] !== reduceCentred(src[j])) assert.fail(`c=${src[j]}`);
  }
});

test('isCentredArray and countBeyond', () => {
  assert.ok(isCentredArray(Int32Array.of(-HALF, 0, HALF)));
  assert.ok(isCentredArray(new Int32Array(0)));
  for (const bad of [HALF + 1, -HALF - 1, 2 ** 31 - 1, -(2 ** 31), P]) {
    assert.ok(!isCentredArray(Int32Array.of(0, bad, 0)), `accepted ${bad}`);
  }
  const a = Int32Array.of(-HALF, -1001, -1000, 0, 999, 1000, 1001, HALF);
  assert.equal(countBeyond(a, 1000), 4);
  assert.equal(countBeyond(a, HALF), 0);
  assert.equal(countBeyond(a, 0), 7);
  assert.throws(() => countBeyond(a, HALF + 1), RangeError);
});
