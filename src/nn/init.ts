/**
 * Weight initialisation from the model's seeded Rng.
 *
 * For a weight of shape [out, in, kH, kW] (conv) or [out, in] (linear):
 *   fan_in = in·kH·kW,  fan_out = out·kH·kW.
 *
 *   kaiming-normal   w ~ N(0, σ²),     σ = gain / √fan
 *   kaiming-uniform  w ~ U(−b, b),     b = gain · √(3 / fan)
 *   xavier-normal    w ~ N(0, σ²),     σ = gain · √(2 / (fan_in + fan_out))
 *   xavier-uniform   w ~ U(−b, b),     b = gain · √(6 / (fan_in + fan_out))
 *
 * with fan = fan_in (default) or fan_out, and gain = √2 for ReLU networks
 * (He et al. 2015) or 1 for linear/Xavier (Glorot & Bengio 2010; Goten's
 * prototype uses xavier-normal with gain 1).
 */
import type { Rng } from './rng.js';

export type InitKind = 'kaiming-normal' | 'kaiming-uniform' | 'xavier-normal' | 'xavier-uniform';

export const INIT_KINDS: readonly InitKind[] = ['kaiming-normal', 'kaiming-uniform', 'xavier-normal', 'xavier-uniform'];

export interface InitOptions {
  /** Multiplier (default √2 for kaiming-*, 1 for xavier-*). */
  gain?: number;
  /** Which fan the Kaiming variants normalise by (default fan_in). */
  mode?: 'fan_in' | 'fan_out';
}

/** fan_in and fan_out of a weight shape [out, in, ...receptive field]. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new RangeError(`init: weight shape needs ≥ 2 dims, got [${shape.join(',')}]`);
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** How a conv/linear layer initialises its weight when it is constructed (default: kaiming-normal, gain √2). */
export interface WeightInit {
  readonly kind?: InitKind;
  readonly gain?: number;
}

/** Fills a layer's weight by `init` from `rng` (the model's: seeded, drawn in construction order). */
export function initLayerWeight(weight: { value: Float32Array; shape: readonly number[] }, rng: Rng, init: WeightInit = {}): void {
  initWeight(init.kind ?? 'kaiming-normal', weight.value, weight.shape, rng, init.gain === undefined ? {} : { gain: init.gain });
}

/** Fills `w` (shape `shape`) by the named scheme. */
export function initWeight(kind: InitKind, w: Float32Array, shape: readonly number[], rng: Rng, opts: InitOptions = {}): void {
  const { fanIn, fanOut } = fans(shape);
  switch (kind) {
    case 'kaiming-normal': {
      const fan = opts.mode === 'fan_out' ? fanOut : fanIn;
      return fillNormal(w, (opts.gain ?? Math.SQRT2) / Math.sqrt(fan), rng);
    }
    case 'kaiming-uniform': {
      const fan = opts.mode === 'fan_out' ? fanOut : fanIn;
      return fillUniform(w, (opts.gain ?? Math.SQRT2) * Math.sqrt(3 / fan), rng);
    }
    case 'xavier-normal':
      return fillNormal(w, (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)), rng);
    case 'xavier-uniform':
      return fillUniform(w, (opts.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut)), rng);
    default:
      throw new RangeError(`init: unknown scheme '${String(kind)}' (expected one of ${INIT_KINDS.join(', ')})`);
  }
}

/**
 * w[i] ~ N(0, std²), in pairs by Marsaglia's polar method (no trigonometry):
 * draw u, v uniform in [−1, 1) (32-bit) until 0 < s = u² + v² < 1, then
 * f = std·√(−2 ln s / s) and w[i] = u·f, w[i+1] = v·f.
 */
export function fillNormal(w: Float32Array, std: number, rng: Rng): void {
  const n = w.length;
  for (let i = 0; i < n; i += 2) {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * rng.next() - 1;
      v = 2 * rng.next() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = std * Math.sqrt((-2 * Math.log(s)) / s);
    w[i] = u * f;
    if (i + 1 < n) w[i + 1] = v * f;
  }
}

/** w[i] ~ U(−bound, bound). */
export function fillUniform(w: Float32Array, bound: number, rng: Rng): void {
  for (let i = 0; i < w.length; i++) w[i] = (2 * rng.nextDouble() - 1) * bound;
}
