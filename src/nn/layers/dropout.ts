/**
 * Inverted dropout with rate p. Training: m_i = [u_i ≥ p] / (1 − p) with u_i
 * uniform from the model's seeded Rng (one draw per element, in order),
 * y = x ⊙ m, dx = dy ⊙ m. Inference: y = x (identity, same tensor). The forward
 * stays in TypeScript (one pass fused with the Rng draws, which are TypeScript);
 * the backward is the process's `multiply` kernel.
 */
import { Tensor } from '../../tensor/tensor.js';
import { nnKernels } from '../kernels/index.js';
import { type Layer, type LayerContext, ShapePreservingLayer } from './layer.js';

export class Dropout extends ShapePreservingLayer implements Layer {
  readonly type = 'dropout';
  /** Whether the last forward drew a mask (saved as 'mask'); else it was the identity. */
  private masked = false;
  private shape: readonly number[] | null = null;

  constructor(
    name: string,
    ctx: LayerContext,
    readonly p: number,
  ) {
    super(name, ctx);
    if (!(p >= 0 && p < 1)) throw new RangeError(`dropout '${name}': rate must be in [0, 1), got ${p}`);
  }

  async forward(x: Tensor, training: boolean): Promise<Tensor> {
    this.shape = x.shape;
    if (!training || this.p === 0) {
      this.masked = false;
      return x;
    }
    const m = this.ctx.mem.f32(this, 'mask', x.size);
    const y = this.ctx.mem.f32(this, 'y', x.size);
    const rng = this.ctx.rng;
    const p = this.p;
    const scale = 1 / (1 - p);
    const xd = x.data;
    for (let i = 0; i < m.length; i++) {
      const keep = rng.next() >= p ? scale : 0;
      m[i] = keep;
      y[i] = xd[i] * keep;
    }
    this.ctx.mem.save(this, 'mask', new Tensor(x.shape, m));
    this.masked = true;
    return new Tensor(x.shape, y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    if (this.shape === null) throw new Error(`dropout '${this.name}': backward called before forward`);
    if (!needInputGrad) return null;
    if (!this.masked) return dy;
    const m = this.ctx.mem.load(this, 'mask').data;
    const dx = this.ctx.mem.f32(this, 'dx', dy.size);
    nnKernels().multiply(dy.data, m, dx);
    return new Tensor(this.shape, dx);
  }
}
