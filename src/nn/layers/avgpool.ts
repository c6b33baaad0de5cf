/**
 * Average pooling over NCHW planes (window geometry and output size as in pool.ts); the
 * loops are the process's kernels (../kernels/reference-pool.ts):
 *
 *   AvgPool2d      y = Σ_window x / n  (padding counts as zeros), n = window size clipped to
 *                  the padded input (kH·kW unless a ceil-mode window overhangs);  dx[window] += dy / n
 *   GlobalAvgPool  [B,C,H,W] → [B,C], y = mean over H·W;  dx = dy / (H·W)
 */
import { Tensor } from '../../tensor/tensor.js';
import { nnKernels } from '../kernels/index.js';
import { expectRank, type Layer, type LayerContext, ParameterFreeLayer } from './layer.js';
import { type PoolOptions, WindowPool } from './pool.js';

export class AvgPool2d extends WindowPool {
  constructor(name: string, ctx: LayerContext, o: PoolOptions) {
    super(name, ctx, 'avgpool', o);
  }

  async forward(x: Tensor, _training: boolean): Promise<Tensor> {
    expectRank(this, x, 4);
    const g = this.geometry(x.shape);
    const y = this.ctx.mem.f32(this, 'y', g.planes * g.outH * g.outW);
    nnKernels().avgPoolForward(g, x.data, y);
    this.inShape = x.shape;
    return new Tensor([x.shape[0], x.shape[1], g.outH, g.outW], y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    if (this.inShape === null) throw new Error(`avgpool '${this.name}': backward called before forward`);
    if (!needInputGrad) return null;
    const shape = this.inShape;
    const g = this.geometry(shape);
    const dx = this.ctx.mem.f32(this, 'dx', g.planes * g.inH * g.inW);
    nnKernels().avgPoolBackward(g, dy.data, dx);
    return new Tensor(shape, dx);
  }
}

export class GlobalAvgPool extends ParameterFreeLayer implements Layer {
  readonly type = 'gap';
  private inShape: readonly number[] | null = null;

  constructor(
    readonly name: string,
    private readonly ctx: LayerContext,
  ) {
    super();
  }

  outputShape(s: readonly number[]): number[] {
    if (s.length !== 3) throw new RangeError(`gap '${this.name}': expected input [C,H,W], got [${s.join(',')}]`);
    return [s[0]];
  }

  async forward(x: Tensor, _training: boolean): Promise<Tensor> {
    expectRank(this, x, 4);
    const [B, C, H, W] = x.shape;
    const y = this.ctx.mem.f32(this, 'y', B * C);
    nnKernels().globalAvgPoolForward(B * C, H * W, x.data, y);
    this.inShape = x.shape;
    return new Tensor([B, C], y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    if (this.inShape === null) throw new Error(`gap '${this.name}': backward called before forward`);
    if (!needInputGrad) return null;
    const shape = this.inShape;
    const planes = shape[0] * shape[1];
    const hw = shape[2] * shape[3];
    const dx = this.ctx.mem.f32(this, 'dx', planes * hw);
    nnKernels().globalAvgPoolBackward(planes, hw, dy.data, dx);
    return new Tensor(shape, dx);
  }
}
