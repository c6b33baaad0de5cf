/**
 * ReLU:  y = max(x, 0);   dx = dy · [y > 0]
 * (the sub-gradient at 0 is taken as 0, as in PyTorch and Goten's enclave).
 *
 * Branchless on the IEEE-754 bit patterns (Int32 views of the float buffers):
 *   forward   y = x & ~(x >> 31)          (sign bit set → +0, else x unchanged)
 *   backward  dx = dy & ((−y) >> 31)      (y ≥ 0, so y > 0 ⇔ its bits are a positive int)
 */
import { Tensor } from '../../tensor/tensor.js';
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

  forward(x: Tensor, _training: boolean): Tensor {
    const out = this.scratch.get('y', x.size);
    const xi = bits(x.data);
    const yi = bits(out);
    for (let i = 0; i < yi.length; i++) {
      const v = xi[i];
      yi[i] = v & ~(v >> 31);
    }
    const y = new Tensor(x.shape, out);
    this.saved.keep('y', y);
    return y;
  }

  backward(dy: Tensor, needInputGrad: boolean): Tensor | null {
    const y = this.saved.tensor('y');
    if (!needInputGrad) return null;
    const dx = this.scratch.get('dx', y.size);
    const yi = bits(y.data);
    const gi = bits(dy.data);
    const di = bits(dx);
    for (let i = 0; i < di.length; i++) di[i] = gi[i] & (-yi[i] >> 31);
    return new Tensor(y.shape, dx);
  }
}

/** The Int32 view of a float buffer's bits. */
function bits(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}
