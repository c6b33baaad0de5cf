/**
 * Softmax cross-entropy with mean reduction over the batch. For logits z
 * ([B, K]) and integer labels t:
 *
 *   p_bk = exp(z_bk − max_k z_b) / Σ_j exp(z_bj − max_k z_b)
 *   loss = −(1/B) Σ_b log p_{b,t_b} = (1/B) Σ_b (logΣexp(z_b) − z_{b,t_b})
 *   ∂loss/∂z_bk = (p_bk − [k = t_b]) / B
 *
 * `correct` counts rows whose arg-max (first maximum on ties) equals the label.
 * Sums run in float64; the result is deterministic.
 */
import { Tensor } from '../tensor/tensor.js';

export interface LossResult {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** ∂loss/∂logits, shape [B, K]. */
  grad: Tensor;
  /** Number of correctly classified rows. */
  correct: number;
}

/**
 * @param out optional buffer of B·K floats to receive the gradient (reused across steps).
 */
export function softmaxCrossEntropy(logits: Tensor, labels: ArrayLike<number>, out?: Float32Array): LossResult {
  if (logits.shape.length !== 2) throw new RangeError(`softmaxCrossEntropy: logits must be [B, K], got [${logits.shape.join(',')}]`);
  const [B, K] = logits.shape;
  if (labels.length !== B) throw new RangeError(`softmaxCrossEntropy: ${labels.length} labels for a batch of ${B}`);
  const z = logits.data;
  const g = out ?? new Float32Array(B * K);
  if (g.length !== B * K) throw new RangeError(`softmaxCrossEntropy: gradient buffer has ${g.length} elements, need ${B * K}`);
  const invB = 1 / B;
  let total = 0;
  let correct = 0;
  for (let b = 0; b < B; b++) {
    const t = labels[b];
    if (!Number.isInteger(t) || t < 0 || t >= K) throw new RangeError(`softmaxCrossEntropy: label ${t} out of range [0, ${K})`);
    const off = b * K;
    let max = z[off];
    let arg = 0;
    for (let k = 1; k < K; k++) {
      const v = z[off + k];
      if (v > max) {
        max = v;
        arg = k;
      }
    }
    if (arg === t) correct++;
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(z[off + k] - max);
    const logSum = Math.log(sum);
    total += logSum + max - z[off + t];
    const inv = 1 / sum;
    for (let k = 0; k < K; k++) {
      const p = Math.exp(z[off + k] - max) * inv;
      g[off + k] = (k === t ? p - 1 : p) * invB;
    }
  }
  return { loss: total * invB, grad: new Tensor([B, K], g), correct };
}
