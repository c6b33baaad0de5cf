/**
 * ReLU:  y = max(x, 0);   dx = dy · [y > 0]
 * (the sub-gradient at 0 is taken as 0, as in PyTorch and Goten's enclave).
 * The loops are the process's kernels (../kernels: branchless on the IEEE-754 bits).
 */
import { Tensor } from '../../tensor/tensor.js';
import { nnKernels } from '../kernels/index.js';
import { type Layer, ShapePreservingLayer } from './layer.js';

export class ReLU extends ShapePreservingLayer implements Layer {
  readonly type = 'relu';

  async forward(x: Tensor, _training: boolean): Promise<Tensor> {
    const out = this.ctx.mem.f32(this, 'y', x.size);
    nnKernels().reluForward(x.data, out);
    const y = new Tensor(x.shape, out);
    this.ctx.mem.save(this, 'y', y); // its sign decides where the gradient passes
    return y;
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    const y = this.ctx.mem.load(this, 'y');
    if (!needInputGrad) return null;
    const dx = this.ctx.mem.f32(this, 'dx', y.size);
    nnKernels().reluBackward(y.data, dy.data, dx);
    return new Tensor(y.shape, dx);
  }
}

