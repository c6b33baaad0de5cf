/**
 * Optimizers over a model's Parameters, with PyTorch's update rules. Master
 * weights and state are float32 (the enclave keeps them; SWALP-style
 * quantization only touches the operands of the outsourced products). Each
 * element is updated in float64 arithmetic and rounded once on store, in a
 * fixed order, so replicas stay bit-identical.
 *
 * SGD (lr η, momentum μ, dampening τ, weight decay λ):
 *   g ← ∇ + λ·w                      (λ only for parameters with decay = true)
 *   b ← g on the first step, else μ·b + (1 − τ)·g          (μ > 0)
 *   d ← g + μ·b (nesterov) or b (μ > 0) or g (μ = 0)
 *   w ← w − η·d
 *
 * Adam (β1, β2, ε; step t from 1):
 *   g ← ∇ + λ·w  (L2)   or   w ← w·(1 − η·λ)  first (decoupled, AdamW)
 *   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
 *   w ← w − (η / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 *
 * getState()/setState() expose the state as named Float32Arrays plus scalars
 * (for checkpoints); tensor names are `<slot>.<parameter name>`.
 */
import type { Parameter } from './layers/layer.js';

export interface OptimizerState {
  tensors: Record<string, Float32Array>;
  scalars: Record<string, number>;
}

export interface Optimizer {
  /** Learning rate used by the next step() (set it from a schedule each step). */
  lr: number;
  /** Steps taken so far. */
  readonly steps: number;
  /** Applies one update from the accumulated gradients (does not clear them). */
  step(): void;
  getState(): OptimizerState;
  setState(s: OptimizerState): void;
  /** Bytes of optimizer state (momentum, Adam moments) held in memory, for the enclave's memory accounting. */
  stateBytes?(): number;
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

abstract class OptimizerBase {
  protected t = 0;
  constructor(
    protected readonly params: readonly Parameter[],
    public lr: number,
    private readonly slots: readonly string[],
  ) {
    if (!(lr >= 0)) throw new RangeError(`optimizer: lr must be ≥ 0, got ${lr}`);
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) throw new RangeError(`optimizer: duplicate parameter name '${p.name}'`);
      seen.add(p.name);
    }
  }

  get steps(): number {
    return this.t;
  }

  protected abstract slot(name: string, i: number): Float32Array;

  stateBytes(): number {
    let n = 0;
    for (const s of this.slots) this.params.forEach((_p, i) => (n += this.slot(s, i).byteLength));
    return n;
  }

  getState(): OptimizerState {
    const tensors: Record<string, Float32Array> = {};
    for (const s of this.slots) this.params.forEach((p, i) => (tensors[`${s}.${p.name}`] = this.slot(s, i).slice()));
    return { tensors, scalars: { step: this.t, lr: this.lr } };
  }

  setState(st: OptimizerState): void {
    if (typeof st !== 'object' || st === null || typeof st.scalars !== 'object' || st.scalars === null || typeof st.tensors !== 'object' || st.tensors === null) {
      throw new RangeError('optimizer state: missing or malformed (expected {tensors, scalars})');
    }
    const step = st.scalars.step;
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`optimizer state: bad 'step' ${step}`);
    for (const s of this.slots) {
      this.params.forEach((p, i) => {
        const key = `${s}.${p.name}`;
        const src = st.tensors[key];
        if (src === undefined) throw new RangeError(`optimizer state: missing tensor '${key}'`);
        const dst = this.slot(s, i);
        if (src.length !== dst.length) throw new RangeError(`optimizer state: '${key}' has ${src.length} elements, expected ${dst.length}`);
        dst.set(src);
      });
    }
    this.t = step;
    if (typeof st.scalars.lr === 'number') this.lr = st.scalars.lr;
  }
}

export class SGD extends OptimizerBase implements Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly bufs: Float32Array[];

  constructor(params: readonly Parameter[], o: SgdOptions) {
    super(params, o.lr, (o.momentum ?? 0) !== 0 ? ['momentum'] : []);
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: nesterov needs momentum > 0 and dampening = 0');
    }
    this.bufs = this.momentum !== 0 ? params.map((p) => new Float32Array(p.value.length)) : [];
  }

  protected slot(_name: string, i: number): Float32Array {
    return this.bufs[i];
  }

  step(): void {
    const lr = this.lr;
    const mu = this.momentum;
    const damp = 1 - this.dampening;
    const first = this.t === 0;
    this.params.forEach((p, pi) => {
      const w = p.value;
      const gr = p.grad;
      const wd = p.decay ? this.weightDecay : 0;
      if (mu === 0) {
        for (let i = 0; i < w.length; i++) w[i] = w[i] - lr * (gr[i] + wd * w[i]);
        return;
      }
      const b = this.bufs[pi];
      const nest = this.nesterov;
      for (let i = 0; i < w.length; i++) {
        const g = gr[i] + wd * w[i];
        const bi = first ? g : mu * b[i] + damp * g;
        b[i] = bi;
        const d = nest ? g + mu * Math.fround(bi) : Math.fround(bi);
        w[i] = w[i] - lr * d;
      }
    });
    this.t++;
  }
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Decoupled weight decay (AdamW) instead of L2 added to the gradient. */
  decoupled?: boolean;
}

export class Adam extends OptimizerBase implements Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(params: readonly Parameter[], o: AdamOptions) {
    super(params, o.lr, ['adam_m', 'adam_v']);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.decoupled = o.decoupled ?? false;
    this.m = params.map((p) => new Float32Array(p.value.length));
    this.v = params.map((p) => new Float32Array(p.value.length));
  }

  protected slot(name: string, i: number): Float32Array {
    return name === 'adam_m' ? this.m[i] : this.v[i];
  }

  step(): void {
    const t = this.t + 1;
    const lr = this.lr;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const stepSize = lr / (1 - b1 ** t);
    const sqrtBc2 = Math.sqrt(1 - b2 ** t);
    this.params.forEach((p, pi) => {
      const w = p.value;
      const gr = p.grad;
      const m = this.m[pi];
      const v = this.v[pi];
      const wd = p.decay ? this.weightDecay : 0;
      const l2 = this.decoupled ? 0 : wd;
      const shrink = this.decoupled ? 1 - lr * wd : 1;
      for (let i = 0; i < w.length; i++) {
        const wi = w[i] * shrink;
        const g = gr[i] + l2 * w[i];
        const mi = Math.fround(b1 * m[i] + (1 - b1) * g);
        const vi = Math.fround(b2 * v[i] + (1 - b2) * g * g);
        m[i] = mi;
        v[i] = vi;
        w[i] = wi - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + this.eps);
      }
    });
    this.t = t;
  }
}

export { constantLr, cosineLr, type LrSchedule, parseSchedule, type ScheduleOptions, stepLr } from './schedule.js';
