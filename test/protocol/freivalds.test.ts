/**
 * The Freivalds projections (src/protocol/freivalds.ts) against an exact BigInt reference: for each of
 * the six ops on small odd shapes, both sides equal the BigInt projection of the BigInt product, and a
 * result with one element off by 1 no longer matches.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { type BilinearOp, bilinearSizes } from '../../src/backend/bilinear.js';
import { createJsBackend } from '../../src/backend/js/index.js';
import { createNativeBackend, nativeAvailability } from '../../src/backend/native/native-backend.js';
import { HALF } from '../../src/field/prime.js';
import { projectProduct, projectResult, projectionRandomness, projectionSize } from '../../src/protocol/freivalds.js';
import { convGeometry, convOutH, convOutW } from '../../src/tensor/geometry.js';
import { centreBig, randCentred, rng } from '../backend/conformance-ref.js';

const K = 3;

/** Quantized-range operands (as AQ, BQ are), and field elements for R. */
function randQ(n: number, r: () => number): Int32Array {
  const v = new Int32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.floor(r() * 256) - 128;
  return v;
}

/** f(A, B) exactly, by the definitions (nested loops, BigInt), centred. */
function productRef(op: BilinearOp, a: Int32Array, b: Int32Array): Int32Array {
  const acc = new Array<bigint>(bilinearSizes(op).c).fill(0n);
  if (op.layer === 'linear') {
    const { batch: B, inF: I, outF: O } = op.geom;
    for (let n = 0; n < B; n++)
      for (let o = 0; o < O; o++)
        for (let i = 0; i < I; i++) {
          if (op.pass === 'forward') acc[n * O + o] += BigInt(b[n * I + i]) * BigInt(a[o * I + i]);
          else if (op.pass === 'grad-input') acc[n * I + i] += BigInt(b[n * O + o]) * BigInt(a[o * I + i]);
          else acc[o * I + i] += BigInt(a[n * O + o]) * BigInt(b[n * I + i]);
        }
  } else {
    const g = op.geom;
    const OH = convOutH(g);
    const OW = convOutW(g);
    for (let n = 0; n < g.batch; n++)
      for (let o = 0; o < g.outC; o++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++)
            for (let c = 0; c < g.inC; c++)
              for (let i = 0; i < g.kH; i++)
                for (let j = 0; j < g.kW; j++) {
                  const h = oh * g.strideH + i - g.padH;
                  const w = ow * g.strideW + j - g.padW;
                  if (h < 0 || h >= g.inH || w < 0 || w >= g.inW) continue;
                  const xi = ((n * g.inC + c) * g.inH + h) * g.inW + w;
                  const wi = ((o * g.inC + c) * g.kH + i) * g.kW + j;
                  const yi = ((n * g.outC + o) * OH + oh) * OW + ow;
                  if (op.pass === 'forward') acc[yi] += BigInt(a[wi]) * BigInt(b[xi]);
                  else if (op.pass === 'grad-input') acc[xi] += BigInt(b[yi]) * BigInt(a[wi]);
                  else acc[wi] += BigInt(a[yi]) * BigInt(b[xi]);
                }
  }
  return Int32Array.from(acc, centreBig);
}

/** ((a·b) mod P) as a BigInt: the conv columns' products of two random elements. */
const mul = (x: number, y: number): bigint => BigInt(x) * BigInt(y);

/** The left side by its definition (the table in freivalds.ts), BigInt. */
function projectionRef(op: BilinearOp, c: Int32Array, r: Int32Array): Int32Array {
  const out = new Array<bigint>(projectionSize(op, K)).fill(0n);
  if (op.layer === 'linear') {
    const rows = projectionRandomness(op); // C is m × rows, R is rows × k
    const m = c.length / rows;
    for (let i = 0; i < m; i++)
      for (let t = 0; t < rows; t++)
        for (let j = 0; j < K; j++) out[i * K + j] += BigInt(c[i * rows + t]) * BigInt(r[t * K + j]);
    return Int32Array.from(out, centreBig);
  }
  const g = op.geom;
  if (op.pass === 'grad-weight') {
    // R = [ρ (k × inC) | σ (k × kk)]; out[o, j] = Σ_{c,δ} dW[o, c, δ]·ρ_j[c]·σ_j[δ]
    const kk = g.kH * g.kW;
    const sigma = K * g.inC;
    for (let o = 0; o < g.outC; o++)
      for (let ch = 0; ch < g.inC; ch++)
        for (let d = 0; d < kk; d++)
          for (let j = 0; j < K; j++) out[o * K + j] += BigInt(c[(o * g.inC + ch) * kk + d]) * mul(r[j * g.inC + ch], r[sigma + j * kk + d]);
    return Int32Array.from(out, centreBig);
  }
  // R = [s (k × N) | r (k × channels)]; out[j, p] = Σ_{n,ch} s_j[n]·r_j[ch]·C[n, ch, p]
  const channels = op.pass === 'forward' ? g.outC : g.inC;
  const plane = op.pass === 'forward' ? convOutH(g) * convOutW(g) : g.inH * g.inW;
  const rOff = K * g.batch;
  for (let n = 0; n < g.batch; n++)
    for (let ch = 0; ch < channels; ch++)
      for (let p = 0; p < plane; p++)
        for (let j = 0; j < K; j++) out[j * plane + p] += mul(r[j * g.batch + n], r[rOff + j * channels + ch]) * BigInt(c[(n * channels + ch) * plane + p]);
  return Int32Array.from(out, centreBig);
}

const geom = convGeometry({ batch: 2, inC: 3, inH: 7, inW: 6, outC: 4, kH: 2, kW: 3, stride: 2, padH: 1, padW: 0 });
const OPS: BilinearOp[] = [
  ...(['forward', 'grad-input', 'grad-weight'] as const).map((pass): BilinearOp => ({ layer: 'linear', pass, geom: { batch: 3, inF: 5, outF: 4 } })),
  ...(['forward', 'grad-input', 'grad-weight'] as const).map((pass): BilinearOp => ({ layer: 'conv', pass, geom })),
];

function backends(): Backend[] {
  return nativeAvailability().available ? [createJsBackend(), createNativeBackend()] : [createJsBackend()];
}

describe('Freivalds projections are exact (BigInt reference)', () => {
  for (const be of backends()) {
    for (const op of OPS) {
      it(`${be.name} ${op.layer} ${op.pass}: both sides equal the reference; one element off by 1 is detected`, () => {
        const r0 = rng(op.pass.length * 31 + (op.layer === 'conv' ? 7 : 0));
        const sz = bilinearSizes(op);
        // grad-weight's A is dY, the others' A is W: operands in the quantized range either way
        const a = randQ(sz.a, r0);
        const b = randQ(sz.b, r0);
        const r = randCentred(projectionRandomness(op) * K, r0);
        const c = productRef(op, a, b);
        const want = projectionRef(op, c, r);
        const n = projectionSize(op, K);
        assert.deepEqual(projectResult(be, op, c, r, K, new Int32Array(n)), want, 'left side');
        assert.deepEqual(projectProduct(be, op, a, b, r, K, new Int32Array(n)), want, 'right side');
        for (const at of [0, c.length - 1, Math.floor(c.length / 2)]) {
          const bad = c.slice();
          bad[at] = bad[at] === HALF ? -HALF : bad[at] + 1; // + 1 mod P, still centred
          assert.notDeepEqual(projectResult(be, op, bad, r, K, new Int32Array(n)), want, `element ${at} + 1`);
        }
      });
    }
  }
  it('rejects a projection matrix of the wrong size', () => {
    const op = OPS[0];
    assert.throws(() => projectResult(createJsBackend(), op, new Int32Array(12), new Int32Array(5), K, new Int32Array(9)), /R must hold 4 × 3/);
  });
});
