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
 *
 * Every rule above is elementwise: element i of w and of the state slots depends
 * only on element i of w, ∇ and the slots, plus per-step scalars. So one step is
 *   beginStep()  (per-step scalars: lr, bias corrections, first-step flag)
 *   updateParameter(p, slots?) for each parameter, in any order, optionally in
 *                chunks of elements whose slot state is streamed in and out
 *   endStep()    (step counter)
 * and step() is exactly that over all parameters with the state resident. Managed
 * memory with sealed parameters (src/nn/memory/parameter-store.ts) calls the
 * per-parameter form inside backward, streaming the sealed slots chunk by chunk;
 * both run the same `update` kernel on the same values, so they are bit-identical.
 *
 * The elementwise loops are NnKernels (./kernels: sgdUpdate, adamUpdate), the process's
 * choice unless one is passed to the constructor; the native and the reference kernels
 * give the same bits (./kernels/reference-optim.ts states the float64 arithmetic).
 */
import { nnKernels, type NnKernels } from './kernels/index.js';
import { type Parameter, parameterSize } from './layers/parameter.js';

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

/**
 * Chunk-wise access to one parameter's optimizer slots when they are not resident (sealed out): chunk c
 * covers elements [c·chunkElems, min(n, (c+1)·chunkElems)).
 */
export interface SlotStream {
  readonly chunkElems: number;
  /** Chunk c of every slot (in `slotNames` order), resident, each of the chunk's length. */
  open(c: number): Promise<Float32Array[]>;
  /** Takes the updated chunk back (reseals it) and frees the buffers. */
  close(c: number, slots: Float32Array[]): Promise<void>;
}

/** An optimizer whose update can run per parameter, with its state held elsewhere (fused into backward). */
export interface FusableOptimizer extends Optimizer {
  /** State slots per parameter (`momentum`; `adam_m`, `adam_v`; none for plain SGD). */
  readonly slotNames: readonly string[];
  /** The parameters it updates, in order (state arrays are indexed alike). */
  readonly parameterList: readonly Parameter[];
  beginStep(): void;
  /** Updates p from p.grad; slots from `stream` (chunk by chunk) or from the resident state. */
  updateParameter(p: Parameter, stream?: SlotStream): Promise<void>;
  endStep(): void;
  /** Hands the state arrays over ([slot][parameter]) and drops them; until attachState, state readers throw. */
  detachState(): Float32Array[][];
  attachState(s: Float32Array[][]): void;
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

const SEALED_OUT =
  'sealed out (managed memory with sealed parameters: the update runs inside model.backward; read the state inside memory.withResidentState())';

abstract class OptimizerBase {
  protected t = 0;
  /** [slot][parameter], or null while handed over (sealed out). */
  private state: Float32Array[][] | null;
  private readonly index = new Map<Parameter, number>();
  private inStep = false;

  constructor(
    protected readonly params: readonly Parameter[],
    public lr: number,
    readonly slotNames: readonly string[],
    protected readonly kernels: NnKernels,
  ) {
    if (!(lr >= 0)) throw new RangeError(`optimizer: lr must be ≥ 0, got ${lr}`);
    const seen = new Set<string>();
    params.forEach((p, i) => {
      if (seen.has(p.name)) throw new RangeError(`optimizer: duplicate parameter name '${p.name}'`);
      seen.add(p.name);
      this.index.set(p, i);
    });
    this.state = slotNames.map(() => params.map((p) => new Float32Array(parameterSize(p))));
  }

  get steps(): number {
    return this.t;
  }

  get parameterList(): readonly Parameter[] {
    return this.params;
  }

  /** Per-step scalars from lr and the step number (t + 1 is the step being taken). */
  protected abstract prepare(): void;

  /** The update of w (and the slots s, same length) from g: the rule at the top, elementwise. */
  protected abstract update(p: Parameter, w: Float32Array, g: Float32Array, s: Float32Array[]): void;

  private slots(i: number): Float32Array[] {
    const st = this.state;
    if (st === null) throw new Error(`optimizer state of '${this.params[i].name}' is ${SEALED_OUT}`);
    return st.map((a) => a[i]);
  }

  protected slot(name: string, i: number): Float32Array {
    return this.slots(i)[this.slotNames.indexOf(name)];
  }

  beginStep(): void {
    if (this.inStep) throw new Error('optimizer: beginStep() while a step is in progress (endStep() missing)');
    this.inStep = true;
    this.prepare();
  }

  async updateParameter(p: Parameter, stream?: SlotStream): Promise<void> {
    if (!this.inStep) throw new Error('optimizer: updateParameter() outside beginStep()/endStep()');
    const i = this.index.get(p);
    if (i === undefined) throw new RangeError(`optimizer: '${p.name}' is not one of its parameters`);
    const w = p.value;
    const g = p.grad;
    if (stream === undefined || this.slotNames.length === 0) return this.update(p, w, g, stream === undefined ? this.slots(i) : []);
    const k = stream.chunkElems;
    for (let c = 0, lo = 0; lo < w.length; c++, lo += k) {
      const hi = Math.min(w.length, lo + k);
      const s = await stream.open(c);
      this.update(p, w.subarray(lo, hi), g.subarray(lo, hi), s);
      await stream.close(c, s);
    }
  }

  endStep(): void {
    if (!this.inStep) throw new Error('optimizer: endStep() without beginStep()');
    this.inStep = false;
    this.t++;
  }

  step(): void {
    if (this.state === null) throw new Error(`optimizer.step(): the state is ${SEALED_OUT}`);
    this.beginStep();
    this.params.forEach((p, i) => this.update(p, p.value, p.grad, this.slots(i)));
    this.endStep();
  }

  detachState(): Float32Array[][] {
    const st = this.state;
    if (st === null) throw new Error('optimizer: the state is already detached');
    this.state = null;
    return st;
  }

  attachState(s: Float32Array[][]): void {
    if (s.length !== this.slotNames.length || s.some((a) => a.length !== this.params.length || a.some((x, i) => x.length !== parameterSize(this.params[i])))) {
      throw new RangeError('optimizer: attachState() got arrays of the wrong number or size');
    }
    this.state = s;
  }

  stateBytes(): number {
    return this.state === null ? 0 : this.state.reduce((n, a) => n + a.reduce((m, x) => m + x.byteLength, 0), 0);
  }

  getState(): OptimizerState {
    const tensors: Record<string, Float32Array> = {};
    for (const s of this.slotNames) this.params.forEach((p, i) => (tensors[`${s}.${p.name}`] = this.slot(s, i).slice()));
    return { tensors, scalars: { step: this.t, lr: this.lr } };
  }

  setState(st: OptimizerState): void {
    if (typeof st !== 'object' || st === null || typeof st.scalars !== 'object' || st.scalars === null || typeof st.tensors !== 'object' || st.tensors === null) {
      throw new RangeError('optimizer state: missing or malformed (expected {tensors, scalars})');
    }
    const step = st.scalars.step;
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`optimizer state: bad 'step' ${step}`);
    for (const s of this.slotNames) {
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

export class SGD extends OptimizerBase implements FusableOptimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private stepLr = 0;
  private first = false;

  /** `kernels`: the elementwise loops (default: the process's choice, ./kernels). */
  constructor(params: readonly Parameter[], o: SgdOptions, kernels: NnKernels = nnKernels()) {
    super(params, o.lr, (o.momentum ?? 0) !== 0 ? ['momentum'] : [], kernels);
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: nesterov needs momentum > 0 and dampening = 0');
    }
  }

  protected prepare(): void {
    this.stepLr = this.lr;
    this.first = this.t === 0;
  }

  protected update(p: Parameter, w: Float32Array, g: Float32Array, s: Float32Array[]): void {
    const step = {
      lr: this.stepLr,
      momentum: this.momentum,
      dampFactor: 1 - this.dampening,
      weightDecay: p.decay ? this.weightDecay : 0,
      first: this.first,
      nesterov: this.nesterov,
    };
    this.kernels.sgdUpdate(step, w, g, s.length > 0 ? s[0] : null);
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

export class Adam extends OptimizerBase implements FusableOptimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  private stepLr = 0;
  private stepSize = 0;
  private sqrtBc2 = 0;

  /** `kernels`: the elementwise loops (default: the process's choice, ./kernels). */
  constructor(params: readonly Parameter[], o: AdamOptions, kernels: NnKernels = nnKernels()) {
    super(params, o.lr, ['adam_m', 'adam_v'], kernels);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.decoupled = o.decoupled ?? false;
  }

  protected prepare(): void {
    const t = this.t + 1;
    this.stepLr = this.lr;
    this.stepSize = this.lr / (1 - this.beta1 ** t);
    this.sqrtBc2 = Math.sqrt(1 - this.beta2 ** t);
  }

  protected update(p: Parameter, w: Float32Array, g: Float32Array, s: Float32Array[]): void {
    const wd = p.decay ? this.weightDecay : 0;
    const step = {
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      l2: this.decoupled ? 0 : wd,
      shrink: this.decoupled ? 1 - this.stepLr * wd : 1,
      stepSize: this.stepSize,
      sqrtBc2: this.sqrtBc2,
    };
    this.kernels.adamUpdate(step, w, g, s[0], s[1]);
  }
}

export { constantLr, cosineLr, type LrSchedule, parseSchedule, type ScheduleOptions, stepLr } from './schedule.js';
