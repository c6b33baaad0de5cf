/**
 * Reference batch normalisation kernels over x shaped [B, C, S] (N = B·S values per channel;
 * the layer and its formulas are in ../layers/batchnorm.ts). Per channel c:
 *
 *   training   μ = Σx/N,  q = Σ(x − μ)²,  σ² = q/N,  inv = 1/√(σ² + ε)     (sums: lanes.ts order)
 *              rm ← (1 − m)·rm + m·μ,   rv ← (1 − m)·rv + m·(N > 1 ? q/(N − 1) : σ²)
 *   inference  μ = rm,  inv = 1/√(rv + ε)
 *   both       h = (x − μ)·inv,  xhat = f32(h),  y = f32(γ·h + β)        (y from the unrounded h)
 *   backward   dβ += Σdy,  dγ += Σ xhat·dy,
 *              dx = (γ·inv/N)·((N·dy − Σdy) − xhat·Σ(xhat·dy))   after a training forward,
 *              dx = (γ·inv)·dy                                   after an inference forward.
 *
 * Every expression is float64, evaluated left to right as written; f32 is the store.
 */
import { channelGradSums, channelSquaredDeviation, channelSum } from './lanes.js';
import type { ChannelShape } from './types.js';

/** xhat and y of channel c from its mean and inv. */
function normalize(s: ChannelShape, c: number, mean: number, inv: number, g: number, bt: number, x: Float32Array, xhat: Float32Array, y: Float32Array): void {
  const { batch: B, channels: C, spatial: S } = s;
  for (let b = 0; b < B; b++) {
    const off = (b * C + c) * S;
    for (let i = off; i < off + S; i++) {
      const h = (x[i] - mean) * inv;
      xhat[i] = h;
      y[i] = g * h + bt;
    }
  }
}

export function bnForwardTrain(
  s: ChannelShape,
  eps: number,
  m: number,
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  rm: Float32Array,
  rv: Float32Array,
  xhat: Float32Array,
  y: Float32Array,
  invStd: Float64Array,
): void {
  const { batch: B, channels: C, spatial: S } = s;
  const N = B * S;
  for (let c = 0; c < C; c++) {
    const mean = channelSum(B, C, S, x, c) / N;
    const q = channelSquaredDeviation(B, C, S, x, c, mean);
    const variance = q / N;
    const inv = 1 / Math.sqrt(variance + eps);
    rm[c] = (1 - m) * rm[c] + m * mean;
    rv[c] = (1 - m) * rv[c] + m * (N > 1 ? q / (N - 1) : variance);
    invStd[c] = inv;
    normalize(s, c, mean, inv, gamma[c], beta[c], x, xhat, y);
  }
}

export function bnForwardEval(
  s: ChannelShape,
  eps: number,
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  rm: Float32Array,
  rv: Float32Array,
  xhat: Float32Array,
  y: Float32Array,
  invStd: Float64Array,
): void {
  for (let c = 0; c < s.channels; c++) {
    const inv = 1 / Math.sqrt(rv[c] + eps);
    invStd[c] = inv;
    normalize(s, c, rm[c], inv, gamma[c], beta[c], x, xhat, y);
  }
}

export function bnBackward(
  s: ChannelShape,
  trained: boolean,
  dy: Float32Array,
  xhat: Float32Array,
  gamma: Float32Array,
  invStd: Float64Array,
  dgamma: Float32Array,
  dbeta: Float32Array,
  dx: Float32Array | null,
): void {
  const { batch: B, channels: C, spatial: S } = s;
  const N = B * S;
  for (let c = 0; c < C; c++) {
    const [sdy, sxdy] = channelGradSums(B, C, S, dy, xhat, c);
    dbeta[c] += sdy;
    dgamma[c] += sxdy;
    if (dx === null) continue;
    const k = trained ? (gamma[c] * invStd[c]) / N : gamma[c] * invStd[c];
    for (let b = 0; b < B; b++) {
      const off = (b * C + c) * S;
      if (trained) for (let i = off; i < off + S; i++) dx[i] = k * (N * dy[i] - sdy - xhat[i] * sxdy);
      else for (let i = off; i < off + S; i++) dx[i] = k * dy[i];
    }
  }
}
