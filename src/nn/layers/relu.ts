/**
 * ReLU:  y = max(x, 0);   dx = dy · [y > 0]
 * (the sub-gradient at 0 is taken as 0, as in PyTorch and Goten's enclave).
 */
import { Tensor } from '../../tensor/tensor.js';
import { type Layer, ParameterFreeLayer, savedInput, Scratch } from './layer.js';

export class ReLU extends ParameterFreeLayer implements Layer {
  readonly type = 'relu';
  private readonly scratch = new Scratch();
  private y: Tensor | null = null;

  constructor(readonly name: string) {
    super();
  }

  outputShape(s: readonly number[]): number[] {
    return s.slice();
  }

  forward(x: Tensor, _training: boolean): Tensor {
    const out = this.scratch.get('y', x.size);
    const xd = x.data;
    for (let i = 0; i < out.length; i++) {
      const v = xd[i];
      out[i] = v > 0 ? v : 0;
    }
    const y = new Tensor(x.shape, out);
    this.y = y;
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const y = savedInput(this, this.y);
    if (!needInputGrad) return null;
    const dx = this.scratch.get('dx', y.size);
    const yd = y.data;
    const g = dy.data;
    for (let i = 0; i < dx.length; i++) dx[i] = yd[i] > 0 ? g[i] : 0;
    return new Tensor(y.shape, dx);
  }
}
