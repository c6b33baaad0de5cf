/**
 * Inverted dropout with rate p. Training: m_i = [u_i ≥ p] / (1 − p) with u_i
 * uniform from the model's seeded Rng (one draw per element, in order),
 * y = x ⊙ m, dx = dy ⊙ m. Inference: y = x (identity, same tensor).
 */
import { Tensor } from '../../tensor/tensor.js';
import { type Layer, type LayerContext, ParameterFreeLayer, Scratch } from './layer.js';

export class Dropout extends ParameterFreeLayer implements Layer {
  readonly type = 'dropout';
  private readonly scratch = new Scratch();
  /** The mask of the last training forward, or null after an inference forward. */
  private mask: Float32Array | null = null;
  private shape: readonly number[] | null = null;

  constructor(
    readonly name: string,
    private readonly ctx: LayerContext,
    readonly p: number,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`dropout '${name}': rate must be in [0, 1), got ${p}`);
  }

  outputShape(s: readonly number[]): number[] {
    return s.slice();
  }

  forward(x: Tensor, training: boolean): Tensor {
    this.shape = x.shape;
    if (!training || this.p === 0) {
      this.mask = null;
      return x;
    }
    const m = this.scratch.get('mask', x.size);
    const y = this.scratch.get('y', x.size);
    const rng = this.ctx.rng;
    const p = this.p;
    const scale = 1 / (1 - p);
    const xd = x.data;
    for (let i = 0; i < m.length; i++) {
      const keep = rng.next() >= p ? scale : 0;
      m[i] = keep;
      y[i] = xd[i] * keep;
    }
    this.mask = m;
    return new Tensor(x.shape, y);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (this.shape === null) throw new Error(`dropout '${this.name}': backward called before forward`);
    if (!needInputGrad) return null;
    const m = this.mask;
    if (m === null) return dy;
    const dx = this.scratch.get('dx', dy.size);
    const g = dy.data;
    for (let i = 0; i < dx.length; i++) dx[i] = g[i] * m[i];
    return new Tensor(this.shape, dx);
  }
}
