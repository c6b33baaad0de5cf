/**
 * Average pooling over NCHW planes (window geometry and output size as in pool.ts):
 *
 *   AvgPool2d      y = Σ_window x / n  (padding counts as zeros), n = window size clipped to
 *                  the padded input (kH·kW unless a ceil-mode window overhangs);  dx[window] += dy / n
 *   GlobalAvgPool  [B,C,H,W] → [B,C], y = mean over H·W;  dx = dy / (H·W)
 */
import { Tensor } from '../../tensor/tensor.js';
import type { ActivationMemory } from '../memory/activation-memory.js';
import { expectRank, type Layer, ParameterFreeLayer, Scratch } from './layer.js';
import { type PoolOptions, windowSpans, WindowPool } from './pool.js';

export class AvgPool2d extends WindowPool {
  constructor(name: string, o: PoolOptions) {
    super(name, 'avgpool', o);
  }

  forward(x: Tensor, _training: boolean): Tensor {
    const [B, C, H, W, OH, OW] = this.dims(x);
    const { rows, cols } = windowSpans(this.window, H, W, OH, OW);
    const y = this.scratch.get('y', B * C * OH * OW);
    const xd = x.data;
    let o = 0;
    for (let plane = 0; plane < B * C; plane++) {
      const xb = plane * H * W;
      for (let p = 0; p < OH; p++) {
        const hs = rows.start[p];
        const he = rows.end[p];
        for (let q = 0; q < OW; q++) {
          const ws = cols.start[q];
          const we = cols.end[q];
          let s = 0;
          for (let h = hs; h < he; h++) {
            const row = xb + h * W;
            for (let c = row + ws; c < row + we; c++) s += xd[c];
          }
          y[o++] = s / (rows.padded[p] * cols.padded[q]);
        }
      }
    }
    this.inShape = x.shape;
    return new Tensor([B, C, OH, OW], y);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (this.inShape === null) throw new Error(`avgpool '${this.name}': backward called before forward`);
    if (!needInputGrad) return null;
    const shape = this.inShape;
    const [B, C, H, W] = shape;
    const [, OH, OW] = this.outputShape(shape.slice(1));
    const { rows, cols } = windowSpans(this.window, H, W, OH, OW);
    const dx = this.scratch.get('dx', B * C * H * W);
    dx.fill(0);
    const g = dy.data;
    let o = 0;
    for (let plane = 0; plane < B * C; plane++) {
      const xb = plane * H * W;
      for (let p = 0; p < OH; p++) {
        const hs = rows.start[p];
        const he = rows.end[p];
        for (let q = 0; q < OW; q++) {
          const ws = cols.start[q];
          const we = cols.end[q];
          const v = g[o++] / (rows.padded[p] * cols.padded[q]);
          for (let h = hs; h < he; h++) {
            const row = xb + h * W;
            for (let c = row + ws; c < row + we; c++) dx[c] += v;
          }
        }
      }
    }
    return new Tensor(shape, dx);
  }
}

export class GlobalAvgPool extends ParameterFreeLayer implements Layer {
  readonly type = 'gap';
  private readonly scratch = new Scratch();
  private inShape: readonly number[] | null = null;

  constructor(readonly name: string) {
    super();
  }

  attachMemory(m: ActivationMemory | null): void {
    this.scratch.attach(m?.pool ?? null);
  }

  outputShape(s: readonly number[]): number[] {
    if (s.length !== 3) throw new RangeError(`gap '${this.name}': expected input [C,H,W], got [${s.join(',')}]`);
    return [s[0]];
  }

  forward(x: Tensor, _training: boolean): Tensor {
    expectRank(this, x, 4);
    const [B, C, H, W] = x.shape;
    const hw = H * W;
    const inv = 1 / hw;
    const y = this.scratch.get('y', B * C);
    const xd = x.data;
    for (let plane = 0; plane < B * C; plane++) {
      let s = 0;
      const end = (plane + 1) * hw;
      for (let i = plane * hw; i < end; i++) s += xd[i];
      y[plane] = s * inv;
    }
    this.inShape = x.shape;
    return new Tensor([B, C], y);
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    if (this.inShape === null) throw new Error(`gap '${this.name}': backward called before forward`);
    if (!needInputGrad) return null;
    const shape = this.inShape;
    const hw = shape[2] * shape[3];
    const inv = 1 / hw;
    const dx = this.scratch.get('dx', dy.size * hw);
    const g = dy.data;
    for (let plane = 0; plane < g.length; plane++) {
      const v = g[plane] * inv;
      dx.fill(v, plane * hw, (plane + 1) * hw);
    }
    return new Tensor(shape, dx);
  }
}
