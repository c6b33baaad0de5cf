/**
 * The learnable tensor every layer owns, and the class `makeParameter` builds it as.
 *
 * Unmanaged, a Parameter is just its two arrays. In managed memory mode with sealed parameters
 * (src/nn/memory/parameter-store.ts) the value lives sealed in untrusted storage between uses and the
 * gradient exists only during its layer's backward: the store swaps pooled buffers in and out through
 * `setResidency`. Reading `value`/`grad` while they are not resident throws instead of returning stale
 * or foreign data. Plain object literals that satisfy the interface keep working unmanaged (tests build
 * some); the parameter store refuses them.
 *
 * Clearing a gradient is lazy (`zeroGradient`): the array is only marked zero, and the first reader
 * fills it, unless the first user is an op that writes every element anyway (`gradientTarget`), which
 * then writes instead of adding. For a VGG-11 step that saves a 37 MB fill and a 37 MB all-zero scan.
 */

/** A learnable tensor with its gradient accumulator. */
export interface Parameter {
  /** Stable dotted name, e.g. `3.weight` (checkpoint key). */
  name: string;
  shape: number[];
  value: Float32Array;
  grad: Float32Array;
  /** Whether the optimizer's weight decay applies to it. */
  decay: boolean;
}

/** Number of elements of a parameter (from its shape: works while it is sealed out). */
export function parameterSize(p: { shape: readonly number[] }): number {
  return p.shape.reduce((a, b) => a * b, 1);
}

export class TensorParameter implements Parameter {
  private v: Float32Array | null;
  private g: Float32Array | null;
  /** Whether g is logically all zeros but not yet filled (zeroGradient). */
  private gradPendingZero = false;
  /** Why value/grad are absent (null while they are resident): the error readers get. */
  private away: string | null = null;

  constructor(
    readonly name: string,
    readonly shape: number[],
    readonly decay: boolean,
  ) {
    const n = parameterSize({ shape });
    this.v = new Float32Array(n);
    this.g = new Float32Array(n);
  }

  get value(): Float32Array {
    if (this.v === null) throw new Error(`parameter '${this.name}' is sealed out (${this.away})`);
    return this.v;
  }

  set value(a: Float32Array) {
    if (this.v === null) throw new Error(`parameter '${this.name}' is sealed out (${this.away})`);
    this.v = a;
  }

  get grad(): Float32Array {
    if (this.g === null) throw new Error(`parameter '${this.name}' has no resident gradient (${this.away})`);
    if (this.gradPendingZero) this.fillPendingZero();
    return this.g;
  }

  set grad(a: Float32Array) {
    if (this.g === null) throw new Error(`parameter '${this.name}' has no resident gradient (${this.away})`);
    this.g = a;
    this.gradPendingZero = false;
  }

  /** Marks the gradient all zeros without touching it (see the file comment); no-op while not resident. */
  zeroGrad(): void {
    if (this.g !== null) this.gradPendingZero = true;
  }

  /**
   * The gradient for an op that will write every element of it: `overwrite` says the gradient is a
   * pending zero, so the op must write (d = f) rather than add (d += f). The caller owns that promise:
   * after this call the array counts as holding the gradient.
   */
  gradForWrite(): { grad: Float32Array; overwrite: boolean } {
    const overwrite = this.gradPendingZero;
    this.gradPendingZero = false;
    return { grad: this.grad, overwrite };
  }

  private fillPendingZero(): void {
    this.g?.fill(0);
    this.gradPendingZero = false;
  }

  /** The value if resident, else null (never throws: accounting, the parameter store). */
  peekValue(): Float32Array | null {
    return this.v;
  }

  peekGrad(): Float32Array | null {
    if (this.gradPendingZero) this.fillPendingZero();
    return this.g;
  }

  /**
   * For the parameter store only: installs the arrays now holding value and gradient (null = not
   * resident); `why` is the reason readers are told while either is absent.
   */
  setResidency(value: Float32Array | null, grad: Float32Array | null, why: string): void {
    if (this.gradPendingZero) this.fillPendingZero(); // the store may seal the old array: give it the zeros it holds
    this.v = value;
    this.g = grad;
    this.away = value === null || grad === null ? why : null;
  }
}

/** Clears p's gradient: lazily for a TensorParameter, by filling otherwise. */
export function zeroGradient(p: Parameter): void {
  if (p instanceof TensorParameter) p.zeroGrad();
  else p.grad.fill(0);
}

/**
 * Where an op that writes every element of p's gradient puts its result, and whether it writes
 * (`overwrite`: the gradient is a pending zero) or must add to what is there.
 */
export function gradientTarget(p: Parameter): { grad: Float32Array; overwrite: boolean } {
  return p instanceof TensorParameter ? p.gradForWrite() : { grad: p.grad, overwrite: false };
}

/** Creates a zero-initialised parameter. */
export function makeParameter(name: string, shape: number[], decay: boolean): Parameter {
  return new TensorParameter(name, shape, decay);
}

/** A non-learnable state tensor saved with the model (BatchNorm running statistics). */
export interface ModelBuffer {
  name: string;
  shape: number[];
  value: Float32Array;
}
