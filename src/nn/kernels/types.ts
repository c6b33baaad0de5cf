/**
 * The enclave's non-linear kernels: the per-element and per-channel loops of ReLU,
 * batch normalisation, pooling, dropout, the conv/linear bias and gradient helpers, and
 * the SGD/Adam updates. Layers and optimizers call them through `nnKernels()`
 * (./index.ts), which is one of two implementations that agree **bit for bit**:
 *
 *   reference  TypeScript (./reference-*.ts), always available: the specification;
 *   native     the addon (native/src/nn_*.cc), AVX2 where the CPU has it.
 *
 * Bit-identity holds because both evaluate the same IEEE operations in the same order:
 * each element in float64, one rounding to float32 per store (a single float32 add or
 * multiply is the same either way), no fused multiply-add. The only sums with a choice of
 * order are the per-channel ones (batch-norm statistics and gradients, bias gradients);
 * their order is fixed by ./lanes.ts (8 interleaved float64 lanes) so that the native
 * loops can vectorise and still match. Averages over pooling windows sum in row-major
 * order in both.
 *
 * Shapes: tensors are batch-first float32 arrays (NCHW); a "plane" is one (image, channel)
 * slice. Every array must have exactly the length its shape implies; outputs must not
 * share memory with inputs (the native kernels throw RangeError, the reference assumes it).
 */

/** x shaped [batch, channels, spatial…], spatial = product of the sizes after the channel axis. */
export interface ChannelShape {
  readonly batch: number;
  readonly channels: number;
  readonly spatial: number;
}

/**
 * `planes` input planes of inH×inW pooled to outH×outW. Row p's window covers input rows
 * [p·strideH − padH, p·strideH − padH + kH) clipped to the input (columns alike);
 * 2·pad ≤ kernel and (out − 1)·stride − pad < in, so every window holds an input element.
 */
export interface PoolGeometry {
  readonly planes: number;
  readonly inH: number;
  readonly inW: number;
  readonly outH: number;
  readonly outW: number;
  readonly kH: number;
  readonly kW: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
}

/**
 * One SGD step's scalars for one parameter (lr η, momentum μ, dampFactor 1 − τ, weightDecay λ,
 * already 0 when the parameter has no decay; `first`: the momentum buffer starts as g).
 */
export interface SgdStep {
  readonly lr: number;
  readonly momentum: number;
  readonly dampFactor: number;
  readonly weightDecay: number;
  readonly first: boolean;
  readonly nesterov: boolean;
}

/**
 * One Adam step's scalars for one parameter: stepSize = η/(1 − β1ᵗ), sqrtBc2 = √(1 − β2ᵗ),
 * shrink = 1 − η·λ (AdamW) or 1, l2 = λ (Adam with L2) or 0.
 */
export interface AdamStep {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly l2: number;
  readonly shrink: number;
  readonly stepSize: number;
  readonly sqrtBc2: number;
}

type F32 = Float32Array;

export interface NnKernels {
  readonly name: 'reference' | 'native';

  /** y = max(x, 0) on the bit patterns: y = x & ~(x >> 31) (−0 → +0). */
  reluForward(x: F32, y: F32): void;
  /** dx = dy · [y > 0] on the bit patterns: dx = dy & ((−y) >> 31). */
  reluBackward(y: F32, dy: F32, dx: F32): void;
  /** acc += d. */
  accumulate(acc: F32, d: F32): void;
  /** Whether every element is +0 or −0. */
  isZero(x: F32): boolean;
  /** y = x ⊙ m (dropout's mask). */
  multiply(x: F32, m: F32, y: F32): void;
  /** y[n, c, ·] += b[c] over planes of `plane` elements. */
  addChannelBias(y: F32, b: F32, batch: number, channels: number, plane: number): void;
  /** g[c] += Σ_n Σ_i dy[n, c, i] (float64 in the lane order of lanes.ts). */
  reduceChannelBias(g: F32, dy: F32, batch: number, channels: number, plane: number): void;

  /**
   * Training batch norm (see batchnorm.ts for the formulas): batch statistics, running-stat update
   * (momentum m), invStd = 1/√(σ² + ε), xhat = (x − μ)·invStd, y = γ·xhat + β.
   */
  bnForwardTrain(s: ChannelShape, eps: number, momentum: number, x: F32, gamma: F32, beta: F32, runMean: F32, runVar: F32, xhat: F32, y: F32, invStd: Float64Array): void;
  /** Inference batch norm with the running statistics. */
  bnForwardEval(s: ChannelShape, eps: number, x: F32, gamma: F32, beta: F32, runMean: F32, runVar: F32, xhat: F32, y: F32, invStd: Float64Array): void;
  /** dβ += Σdy, dγ += Σ xhat·dy, and dx (when not null) for a training or an inference forward. */
  bnBackward(s: ChannelShape, trained: boolean, dy: F32, xhat: F32, gamma: F32, invStd: Float64Array, dgamma: F32, dbeta: F32, dx: F32 | null): void;

  /** y = window maximum, idx = its flat input index (first maximum in row-major order). */
  maxPoolForward(g: PoolGeometry, x: F32, y: F32, idx: Int32Array): void;
  /** dx = 0, then dx[idx[o]] += dy[o] in order. */
  maxPoolBackward(idx: Int32Array, dy: F32, dx: F32): void;
  /** y = Σ_window x / n (padding counts as zeros; n = window extent within the padded input). */
  avgPoolForward(g: PoolGeometry, x: F32, y: F32): void;
  /** dx = 0, then dx[window] += dy / n. */
  avgPoolBackward(g: PoolGeometry, dy: F32, dx: F32): void;
  /** [planes, hw] → [planes]: y = Σx · (1/hw). */
  globalAvgPoolForward(planes: number, hw: number, x: F32, y: F32): void;
  /** dx[plane, ·] = dy[plane] · (1/hw). */
  globalAvgPoolBackward(planes: number, hw: number, dy: F32, dx: F32): void;

  /** One SGD update of w (and the momentum buffer, null when μ = 0) from the gradient g; see optim.ts. */
  sgdUpdate(s: SgdStep, w: F32, g: F32, buf: F32 | null): void;
  /** One Adam/AdamW update of w and the moments m, v from the gradient g; see optim.ts. */
  adamUpdate(s: AdamStep, w: F32, g: F32, m: F32, v: F32): void;
}
