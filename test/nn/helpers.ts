/**
 * Test helpers for the nn engine: float64 reference implementations written as
 * direct loops (independent of the layers and backends they check), central
 * finite differences, and closeness assertions.
 */
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { getBackend } from '../../src/backend/index.js';
import { type ModelContext, modelContext } from '../../src/nn/model.js';
import { PlainExecutor } from '../../src/nn/plain-executor.js';
import { Rng } from '../../src/nn/rng.js';

/** The backend the tests run on: native when built, else the js reference (GOTEN_TEST_BACKEND=js|native forces one). */
export async function testBackend(): Promise<Backend> {
  const forced = process.env.GOTEN_TEST_BACKEND;
  return getBackend(forced === 'js' || forced === 'native' ? forced : 'auto');
}

export async function plainContext(seed = 1): Promise<ModelContext> {
  return modelContext(new PlainExecutor(await testBackend()), new Rng(seed));
}

/** n uniform values in [−scale, scale) from a seeded Rng. */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * r.next() - 1) * scale;
  return a;
}

/** A random permutation of evenly spaced values (no ties, gaps ≥ 2·scale/n): good for max-pool and ReLU checks. */
export function distinctArray(n: number, seed: number, scale = 1): Float32Array {
  const r = new Rng(seed);
  const idx = r.shuffle(Array.from({ length: n }, (_, i) => i));
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = ((idx[i] + 0.5) / n) * 2 * scale - scale;
  return a;
}

export const f64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a);

/** Σ r_i · y_i. */
export function dot(r: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += r[i] * y[i];
  return s;
}

/**
 * Central differences (f(v + h·e_i) − f(v − h·e_i)) / 2h in float64 at the given
 * coordinates (all when `idx` is undefined); v is restored afterwards.
 */
export function numericGrad(f: (v: Float64Array) => number, v: Float64Array, idx?: number[], h = 1e-5): Map<number, number> {
  const out = new Map<number, number>();
  for (const i of idx ?? Array.from({ length: v.length }, (_, k) => k)) {
    const old = v[i];
    v[i] = old + h;
    const fp = f(v);
    v[i] = old - h;
    const fm = f(v);
    v[i] = old;
    out.set(i, (fp - fm) / (2 * h));
  }
  return out;
}

/** Up to k distinct coordinates of [0, n), seeded. */
export function sampleIndices(n: number, k: number, seed: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, k);
}

/** |a − e| ≤ atol + rtol·|e| elementwise, with a helpful message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: { rtol?: number; atol?: number }, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/**
 * Compares analytic (float32) gradients with numeric (float64) ones at the sampled
 * coordinates: |a − n| ≤ atol + rtol·|n| with atol = atolScale · max|n|, at least 2e-6
 * (float32 round-off of gradients that are exactly zero, e.g. a bias before BatchNorm).
 */
export function assertGradClose(analytic: ArrayLike<number>, numeric: Map<number, number>, what: string, rtol = 2e-3, atolScale = 2e-4): void {
  let scale = 0;
  for (const v of numeric.values()) scale = Math.max(scale, Math.abs(v));
  const atol = Math.max(atolScale * scale, 2e-6);
  for (const [i, n] of numeric) {
    const a = analytic[i];
    if (!(Math.abs(a - n) <= atol + rtol * Math.abs(n))) {
      assert.fail(`${what}[${i}]: analytic ${a}, numeric ${n} (rtol ${rtol}, atol ${atol.toExponential(2)})`);
    }
  }
}

// ---------------------------------------------------------------- float64 references

export interface Conv {
  B: number;
  C: number;
  H: number;
  W: number;
  O: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  pH: number;
  pW: number;
}

export function convOut(g: Conv): [number, number] {
  return [Math.floor((g.H + 2 * g.pH - g.kH) / g.sH) + 1, Math.floor((g.W + 2 * g.pW - g.kW) / g.sW) + 1];
}

/** Direct-loop convolution y[n,o,p,q] = Σ w[o,c,i,j]·x[n,c,p·s+i−pad, q·s+j−pad] + b[o]. */
export function convRef(g: Conv, x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null): Float64Array {
  const [OH, OW] = convOut(g);
  const y = new Float64Array(g.B * g.O * OH * OW);
  for (let n = 0; n < g.B; n++)
    for (let o = 0; o < g.O; o++)
      for (let p = 0; p < OH; p++)
        for (let q = 0; q < OW; q++) {
          let s = b === null ? 0 : b[o];
          for (let c = 0; c < g.C; c++)
            for (let i = 0; i < g.kH; i++)
              for (let j = 0; j < g.kW; j++) {
                const h = p * g.sH + i - g.pH;
                const ww = q * g.sW + j - g.pW;
                if (h < 0 || h >= g.H || ww < 0 || ww >= g.W) continue;
                s += w[((o * g.C + c) * g.kH + i) * g.kW + j] * x[((n * g.C + c) * g.H + h) * g.W + ww];
              }
          y[((n * g.O + o) * OH + p) * OW + q] = s;
        }
  return y;
}

/** Direct-loop conv gradients for upstream dy: dx, dw, db. */
export function convGradRef(g: Conv, x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const [OH, OW] = convOut(g);
  const dx = new Float64Array(g.B * g.C * g.H * g.W);
  const dw = new Float64Array(g.O * g.C * g.kH * g.kW);
  const db = new Float64Array(g.O);
  for (let n = 0; n < g.B; n++)
    for (let o = 0; o < g.O; o++)
      for (let p = 0; p < OH; p++)
        for (let q = 0; q < OW; q++) {
          const d = dy[((n * g.O + o) * OH + p) * OW + q];
          db[o] += d;
          for (let c = 0; c < g.C; c++)
            for (let i = 0; i < g.kH; i++)
              for (let j = 0; j < g.kW; j++) {
                const h = p * g.sH + i - g.pH;
                const ww = q * g.sW + j - g.pW;
                if (h < 0 || h >= g.H || ww < 0 || ww >= g.W) continue;
                const xi = ((n * g.C + c) * g.H + h) * g.W + ww;
                const wi = ((o * g.C + c) * g.kH + i) * g.kW + j;
                dx[xi] += d * w[wi];
                dw[wi] += d * x[xi];
              }
        }
  return { dx, dw, db };
}

/** y[b,o] = Σ_i x[b,i]·w[o,i] + bias[o]. */
export function linearRef(B: number, inF: number, outF: number, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null): Float64Array {
  const y = new Float64Array(B * outF);
  for (let b = 0; b < B; b++)
    for (let o = 0; o < outF; o++) {
      let s = bias === null ? 0 : bias[o];
      for (let i = 0; i < inF; i++) s += x[b * inF + i] * w[o * inF + i];
      y[b * outF + o] = s;
    }
  return y;
}

/** Batch-norm over [B, C, S] in training mode (batch stats, biased variance). */
export function bnTrainRef(B: number, C: number, S: number, x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, eps = 1e-5): { y: Float64Array; mean: Float64Array; varBiased: Float64Array } {
  const y = new Float64Array(B * C * S);
  const mean = new Float64Array(C);
  const varBiased = new Float64Array(C);
  const N = B * S;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) s += x[(b * C + c) * S + i];
    const mu = s / N;
    let q = 0;
    for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) q += (x[(b * C + c) * S + i] - mu) ** 2;
    const v = q / N;
    mean[c] = mu;
    varBiased[c] = v;
    for (let b = 0; b < B; b++)
      for (let i = 0; i < S; i++) {
        const k = (b * C + c) * S + i;
        y[k] = ((x[k] - mu) / Math.sqrt(v + eps)) * gamma[c] + beta[c];
      }
  }
  return { y, mean, varBiased };
}

/** Batch-norm with fixed statistics. */
export function bnEvalRef(B: number, C: number, S: number, x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, rm: ArrayLike<number>, rv: ArrayLike<number>, eps = 1e-5): Float64Array {
  const y = new Float64Array(B * C * S);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < S; i++) {
        const k = (b * C + c) * S + i;
        y[k] = ((x[k] - rm[c]) / Math.sqrt(rv[c] + eps)) * gamma[c] + beta[c];
      }
  return y;
}

export interface Pool {
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  pH: number;
  pW: number;
  ceil: boolean;
}

function poolLen(n: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = n + 2 * p - k;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= n + p) out--;
  return out;
}

/** Max or average pooling on [B·C planes, H, W] (average: divisor = window clipped to the padded input). */
export function poolRef(kind: 'max' | 'avg', planes: number, H: number, W: number, g: Pool, x: ArrayLike<number>): { y: Float64Array; OH: number; OW: number } {
  const OH = poolLen(H, g.kH, g.sH, g.pH, g.ceil);
  const OW = poolLen(W, g.kW, g.sW, g.pW, g.ceil);
  const y = new Float64Array(planes * OH * OW);
  for (let pl = 0; pl < planes; pl++)
    for (let p = 0; p < OH; p++)
      for (let q = 0; q < OW; q++) {
        let best = -Infinity;
        let sum = 0;
        let count = 0;
        for (let i = 0; i < g.kH; i++)
          for (let j = 0; j < g.kW; j++) {
            const h = p * g.sH - g.pH + i;
            const w = q * g.sW - g.pW + j;
            if (h < H + g.pH && w < W + g.pW) count++; // inside the padded input
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const v = x[(pl * H + h) * W + w];
            best = Math.max(best, v);
            sum += v;
          }
        y[(pl * OH + p) * OW + q] = kind === 'max' ? best : sum / count;
      }
  return { y, OH, OW };
}

/** Mean cross-entropy of softmax(z) against labels. */
export function crossEntropyRef(B: number, K: number, z: ArrayLike<number>, labels: ArrayLike<number>): number {
  let total = 0;
  for (let b = 0; b < B; b++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, z[b * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(z[b * K + k] - max);
    total += Math.log(s) + max - z[b * K + labels[b]];
  }
  return total / B;
}
