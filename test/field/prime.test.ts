// Scalar field helpers against exact BigInt arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centredBig, rng } from './helpers.js';
import { P, HALF, MAX_EXACT_K, reduceCentred, addCentred, subCentred, isCentred } from '../../src/field/prime.js';

test('constants: P = 2^21 − 9 is prime, HALF = (P − 1)/2, K bound is the float64 exactness limit', () => {
  assert.equal(P, 2 ** 21 - 9);
  assert.equal(HALF, (P - 1) / 2);
  for (let d = 2; d * d <= P; d++) assert.notEqual(P % d, 0, `divisible by ${d}`);
  assert.ok(BigInt(MAX_EXACT_K) * BigInt(HALF) ** 2n < 2n ** 53n);
  assert.ok(BigInt(MAX_EXACT_K + 1) * BigInt(HALF) ** 2n >= 2n ** 53n);
});

test('reduceCentred matches BigInt on edge values', () => {
  const T53 = 2 ** 53;
  const qMax = Math.floor(T53 / P);
  const edges: number[] = [0, 1, HALF, HALF + 1, P - 1, P, P + 1, 2 * P, T53, T53 - 1, T53 - 2, 2 ** 40, 2 ** 52 + 1];
  for (const q of [1, 2, 12345, 2 ** 20, 2 ** 31, qMax - 1, qMax]) {
    // c/P within a hair of a half-integer is where the quotient estimate can be off by one.
    for (const d of [-2, -1, 0, 1, 2]) edges.push(q * P + HALF + d, q * P - HALF + d, q * P + d);
  }
  for (const e of edges) {
    for (const c of [e, -e]) {
      if (Math.abs(c) > T53) continue;
      assert.equal(reduceCentred(c), centredBig(BigInt(c)), `c = ${c}`);
    }
  }
});

test('reduceCentred matches BigInt on 200 000 random integers up to 2^53', () => {
  const r = rng(1);
  for (let k = 0; k < 200_000; k++) {
    const bitsHi = k % 4 === 0 ? 0x1fffff : (1 << (r() % 22)) - 1; // vary the magnitude
    let c = (r() & bitsHi) * 2 ** 32 + r();
    if (r() & 1) c = -c;
    const got = reduceCentred(c);
    const want = centredBig(BigInt(c));
    if (got !== want) assert.fail(`reduceCentred(${c}) = ${got}, want ${want}`);
  }
});

test('addCentred / subCentred match BigInt on edge pairs and random pairs', () => {
  const edges = [-HALF, -HALF + 1, -HALF + 2, -(HALF >> 1), -2, -1, 0, 1, 2, HALF >> 1, HALF - 2, HALF - 1, HALF];
  const check = (a: number, b: number): void => {
    const s = addCentred(a, b);
    const d = subCentred(a, b);
    if (s !== centredBig(BigInt(a) + BigInt(b)) || d !== centredBig(BigInt(a) - BigInt(b))) {
      assert.fail(`a=${a} b=${b}: add ${s} sub ${d}`);
    }
    if (!isCentred(s) || !isCentred(d)) assert.fail(`not centred for a=${a} b=${b}`);
  };
  for (const a of edges) for (const b of edges) check(a, b);
  const r = rng(2);
  for (let k = 0; k < 200_000; k++) check((r() % P) - HALF, (r() % P) - HALF);
});

test('isCentred', () => {
  assert.ok(isCentred(0) && isCentred(HALF) && isCentred(-HALF));
  assert.ok(!isCentred(HALF + 1) && !isCentred(-HALF - 1) && !isCentred(0.5) && !isCentred(NaN));
});
