/**
 * Batch-norm kernels: native = reference bit for bit (both loop variants; training and inference
 * forward with the running-stat update, backward after either), and the reference against a
 * direct float64 computation (tolerance stated below).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ChannelShape, type NnKernels, referenceNnKernels as ref } from '../../src/nn/kernels/index.js';
import { bnTrainRef } from './helpers.js';
import { assertSameBits, awkward, cancelling, forEachNative, skipNative, uniform } from './kernels-helpers.js';

/** [batch, channels, spatial]: batch 1, one value per channel (bn1d), odd sizes, sizes around the lane width. */
const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 3, 5], [2, 5, 7], [3, 7, 9], [4, 3, 17], [5, 2, 1], [7, 3, 1], [2, 3, 64], [1, 2, 1023], [3, 4, 15], [32, 3, 16],
]; // prettier-ignore

interface BnCase {
  s: ChannelShape;
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  rm: Float32Array;
  rv: Float32Array;
  dy: Float32Array;
}

function makeCase([batch, channels, spatial]: [number, number, number], seed: number, awkwardValues = false): BnCase {
  const n = batch * channels * spatial;
  const x = awkwardValues ? awkward(n, seed, false) : uniform(n, seed, 2).map((v) => v + 3); // mean ≠ 0
  return {
    s: { batch, channels, spatial },
    x,
    gamma: uniform(channels, seed + 1).map((v) => v + 1.5),
    beta: uniform(channels, seed + 2),
    rm: uniform(channels, seed + 3),
    rv: uniform(channels, seed + 4).map((v) => v + 1.5),
    dy: cancelling(n, seed + 5),
  };
}

/** Everything a forward + backward produces, for one implementation. */
function run(k: NnKernels, c: BnCase, training: boolean, withDx: boolean): Record<string, Float32Array | Float64Array> {
  const n = c.x.length;
  const C = c.s.channels;
  const out = { rm: c.rm.slice(), rv: c.rv.slice(), xhat: new Float32Array(n), y: new Float32Array(n), invStd: new Float64Array(C) };
  if (training) k.bnForwardTrain(c.s, 1e-5, 0.1, c.x, c.gamma, c.beta, out.rm, out.rv, out.xhat, out.y, out.invStd);
  else k.bnForwardEval(c.s, 1e-5, c.x, c.gamma, c.beta, out.rm, out.rv, out.xhat, out.y, out.invStd);
  const dgamma = uniform(C, 77); // backward accumulates into the parameter gradients
  const dbeta = uniform(C, 78);
  const dx = withDx ? new Float32Array(n).fill(9) : null;
  k.bnBackward(c.s, training, c.dy, out.xhat, c.gamma, out.invStd, dgamma, dbeta, dx);
  return { ...out, dgamma, dbeta, ...(dx ? { dx } : {}) };
}

describe('native batch norm = reference, bit for bit', { skip: skipNative }, () => {
  for (const training of [true, false]) {
    it(`${training ? 'training' : 'inference'} forward, running stats, backward (with and without dx)`, () => {
      forEachNative((k, v) => {
        SHAPES.forEach((shape, i) => {
          for (const awk of [false, true]) {
            const c = makeCase(shape, 10 * i + 1, awk);
            const want = run(ref, c, training, true);
            const got = run(k, c, training, true);
            for (const key of Object.keys(want)) assertSameBits(got[key], want[key], `${v} ${shape.join('x')}${awk ? ' awkward' : ''} ${key}`);
            const noDx = run(k, c, training, false);
            assertSameBits(noDx.dgamma, want.dgamma, `${v} ${shape.join('x')} dgamma without dx`);
          }
        });
      });
    });
  }
});

describe('reference batch norm against float64', () => {
  // Tolerance: y, xhat and the running stats are float64 values rounded once to float32, so they
  // are within 2^−24 relative of the direct float64 result; 1e-6·(1 + |v|) leaves room for the
  // float64 sums' own error (N ≤ 32 K terms).
  const close = (got: number, want: number, what: string): void =>
    assert.ok(Math.abs(got - want) <= 1e-6 * (1 + Math.abs(want)), `${what}: ${got} vs ${want}`);

  it('training forward and running statistics', () => {
    SHAPES.forEach((shape, i) => {
      const c = makeCase(shape, 100 + i);
      const got = run(ref, c, true, true);
      const [B, C, S] = shape;
      const r = bnTrainRef(B, C, S, c.x, c.gamma, c.beta);
      const N = B * S;
      r.y.forEach((v, j) => close(got.y[j], v, `${shape} y[${j}]`));
      for (let ch = 0; ch < C; ch++) {
        close(got.rm[ch], 0.9 * c.rm[ch] + 0.1 * r.mean[ch], `${shape} running mean ${ch}`);
        const unbiased = N > 1 ? (r.varBiased[ch] * N) / (N - 1) : r.varBiased[ch];
        close(got.rv[ch], 0.9 * c.rv[ch] + 0.1 * unbiased, `${shape} running var ${ch}`);
      }
    });
  });

  it('backward after a training forward', () => {
    SHAPES.forEach((shape, i) => {
      const base = makeCase(shape, 200 + i);
      const c = { ...base, dy: uniform(base.x.length, 300 + i) }; // (cancelling data would make the order matter here)
      const got = run(ref, c, true, true);
      const [B, C, S] = shape;
      const N = B * S;
      const g0 = uniform(C, 77);
      const b0 = uniform(C, 78);
      for (let ch = 0; ch < C; ch++) {
        let sdy = 0;
        let sxdy = 0;
        const at = (b: number, j: number): number => (b * C + ch) * S + j;
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < S; j++) {
            sdy += c.dy[at(b, j)];
            sxdy += got.xhat[at(b, j)] * c.dy[at(b, j)];
          }
        }
        close(got.dbeta[ch], b0[ch] + sdy, `${shape} dbeta ${ch}`);
        close(got.dgamma[ch], g0[ch] + sxdy, `${shape} dgamma ${ch}`);
        const k = (c.gamma[ch] * got.invStd[ch]) / N;
        // dx is a difference of terms of size ≈ N·|dy|: its error scales with them, not with dx.
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < S; j++) {
            const want = k * (N * c.dy[at(b, j)] - sdy - got.xhat[at(b, j)] * sxdy);
            const scale = Math.abs(k) * (N * Math.abs(c.dy[at(b, j)]) + Math.abs(sdy) + Math.abs(got.xhat[at(b, j)] * sxdy));
            assert.ok(Math.abs(got.dx[at(b, j)] - want) <= 1e-6 * (1e-6 + Math.abs(want)) + 1e-12 * scale, `${shape} dx`);
          }
        }
      }
    });
  });
});
