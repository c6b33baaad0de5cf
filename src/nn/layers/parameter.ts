/**
 * The learnable tensor every layer owns, and the class `makeParameter` builds it as.
 *
 * Unmanaged, a Parameter is just its two arrays. In managed memory mode with sealed parameters
 * (src/nn/memory/parameter-store.ts) the value lives sealed in untrusted storage between uses and the
 * gradient exists only during its layer's backward: the store swaps pooled buffers in and out through
 * `setResidency`. Reading `value`/`grad` while they are not resident throws instead of returning stale
 * or foreign data. Plain object literals that satisfy the interface keep working unmanaged (tests build
 * some); the parameter store refuses them.
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
    return this.g;
  }

  set grad(a: Float32Array) {
    if (this.g === null) throw new Error(`parameter '${this.name}' has no resident gradient (${this.away})`);
    this.g = a;
  }

  /** The value if resident, else null (never throws: accounting, the parameter store). */
  peekValue(): Float32Array | null {
    return this.v;
  }

  peekGrad(): Float32Array | null {
    return this.g;
  }

  /**
   * For the parameter store only: installs the arrays now holding value and gradient (null = not
   * resident); `why` is the reason readers are told while either is absent.
   */
  setResidency(value: Float32Array | null, grad: Float32Array | null, why: string): void {
    this.v = value;
    this.g = grad;
    this.away = value === null || grad === null ? why : null;
  }
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
