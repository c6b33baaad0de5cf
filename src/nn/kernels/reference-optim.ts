/**
 * Reference optimizer kernels (the rules are stated in ../optim.ts; the scalars in types.ts).
 * Each element is computed in float64, operations left to right as written, and rounded
 * once on store (the momentum buffer and Adam's moments are rounded to float32 before
 * they are used further, as they are stored):
 *
 *   SGD   g = ∇ + λ·w
 *         μ = 0:  w ← w − η·g
 *         μ ≠ 0:  b ← first ? g : μ·b + (1−τ)·g;   d = nesterov ? g + μ·f32(b) : f32(b);   w ← w − η·d
 *   Adam  w' = w·shrink;  g = ∇ + l2·w;  m ← f32(β1·m + (1−β1)·g);  v ← f32(β2·v + ((1−β2)·g)·g)
 *         w ← w' − (stepSize·m) / (√v / sqrtBc2 + ε)
 */
import type { AdamStep, SgdStep } from './types.js';

export function sgdUpdate(s: SgdStep, w: Float32Array, gr: Float32Array, b: Float32Array | null): void {
  const { lr, momentum: mu, dampFactor: damp, weightDecay: wd, first, nesterov: nest } = s;
  if (b === null) {
    for (let i = 0; i < w.length; i++) w[i] = w[i] - lr * (gr[i] + wd * w[i]);
    return;
  }
  for (let i = 0; i < w.length; i++) {
    const g = gr[i] + wd * w[i];
    const bi = first ? g : mu * b[i] + damp * g;
    b[i] = bi;
    const d = nest ? g + mu * Math.fround(bi) : Math.fround(bi);
    w[i] = w[i] - lr * d;
  }
}

export function adamUpdate(s: AdamStep, w: Float32Array, gr: Float32Array, m: Float32Array, v: Float32Array): void {
  const { beta1: b1, beta2: b2, eps, l2, shrink, stepSize, sqrtBc2 } = s;
  for (let i = 0; i < w.length; i++) {
    const wi = w[i] * shrink;
    const g = gr[i] + l2 * w[i];
    const mi = Math.fround(b1 * m[i] + (1 - b1) * g);
    const vi = Math.fround(b2 * v[i] + (1 - b2) * g * g);
    m[i] = mi;
    v[i] = vi;
    w[i] = wi - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
}
