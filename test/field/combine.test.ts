// combine.ts (used by src/protocol) against exact BigInt arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { P, HALF } from '../../src/field/prime.js';
import { FieldStream, deriveStreamKey } from '../../src/field/prg.js';
import { subModP } from '../../src/field/share.js';
import { addSubModP, maskAndShare } from '../../src/field/combine.js';

const BP = BigInt(P);
const centredBig = (c: bigint): number => {
  let r = ((c % BP) + BP) % BP;
  if (r > BigInt(HALF)) r -= BP;
  return Number(r);
};
const KEY = deriveStreamKey(new Uint8Array(32).fill(1), 'combine');
const centred = (n: number, id: bigint): Int32Array => FieldStream.open(KEY, id).fillCentred(new Int32Array(n));

test('addSubModP = p + q − r mod P (edges and random), in place', () => {
  const n = 20_000;
  const [p, q, r] = [centred(n, 1n), centred(n, 2n), centred(n, 3n)];
  const edges = [-HALF, -1, 0, 1, HALF];
  let i = 0;
  for (const a of edges) for (const b of edges) for (const c of edges) (p[i] = a), (q[i] = b), (r[i++] = c);
  const out = addSubModP(p, q, r, new Int32Array(n));
  for (let j = 0; j < n; j++) {
    if (out[j] !== centredBig(BigInt(p[j]) + BigInt(q[j]) - BigInt(r[j]))) assert.fail(`j=${j}`);
  }
  const inPlace = q.slice();
  assert.deepEqual(addSubModP(p, inPlace, r, inPlace), out);
});

test('maskAndShare: e = q − u and s1 = q − s0 mod P; s1 skipped when null', () => {
  const n = 5000;
  const q = Int32Array.from(centred(n, 4n), (v) => (v & 0xff) - 128);
  const [u, s0] = [centred(n, 5n), centred(n, 6n)];
  const e = new Int32Array(n);
  const s1 = new Int32Array(n);
  maskAndShare(q, u, s0, e, s1);
  assert.deepEqual(e, subModP(q, u, new Int32Array(n)));
  assert.deepEqual(s1, subModP(q, s0, new Int32Array(n)));
  const e2 = new Int32Array(n);
  maskAndShare(q, u, null, e2, null);
  assert.deepEqual(e2, e);
});
