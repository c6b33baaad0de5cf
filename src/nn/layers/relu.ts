/**
 * ReLU:  y = max(x, 0);   dx = dy · [y > 0]
 * (the sub-gradient at 0 is taken as 0, as in PyTorch and Goten's enclave).
 * The loops are the process's kernels (../kernels: branchless on the IEEE-754 bits).
 */
import { Tensor } from '../../tensor/tensor.js';
import { nnKernels } from '../kernels/index.js';
import type { ActivationMemory } from '../memory/activation-memory.js';
import { SavedTensors } from '../memory/saved.js';
import { type Layer, ParameterFreeLayer, Scratch } from './layer.js';

export class ReLU extends ParameterFreeLayer implements Layer {
  readonly type = 'relu';
  private readonly scratch = new Scratch();
  /** The output y (its sign decides where the gradient passes). */
  readonly saved: SavedTensors;

  constructor(readonly name: string) {
    super();
    this.saved = new SavedTensors(name);
  }

  attachMemory(m: ActivationMemory | null): void {
    this.scratch.attach(m?.pool ?? null);
    this.saved.attach(m?.store ?? null);
  }

  outputShape(s: readonly number[]): number[] {
    return s.slice();
  }

  async forward(x: Tensor, _training: boolean): Promise<Tensor> {
    const out = this.scratch.get('y', x.size);
    nnKernels().reluForward(x.data, out);
    const y = new Tensor(x.shape, out);
    this.saved.keep('y', y);
    return y;
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    const y = this.saved.tensor('y');
    if (!needInputGrad) return null;
    const dx = this.scratch.get('dx', y.size);
    nnKernels().reluBackward(y.data, dy.data, dx);
    return new Tensor(y.shape, dx);
  }
}

