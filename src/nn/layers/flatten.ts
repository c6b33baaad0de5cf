/**
 * Flatten: [B, d1, d2, …] → [B, d1·d2·…], a view (no copy); dx is dy viewed
 * back in the input's shape.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { type Layer, ParameterFreeLayer } from './layer.js';

export class Flatten extends ParameterFreeLayer implements Layer {
  readonly type = 'flatten';
  private inShape: readonly number[] | null = null;

  constructor(readonly name: string) {
    super();
  }

  outputShape(s: readonly number[]): number[] {
    return [s.reduce((a, b) => a * b, 1)];
  }

  async forward(x: Tensor, _training: boolean): Promise<Tensor> {
    this.inShape = x.shape;
    return x.reshape([x.shape[0], x.size / x.shape[0]]);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    if (this.inShape === null) throw new Error(`flatten '${this.name}': backward called before forward`);
    return needInputGrad ? dy.reshape(this.inShape) : null;
  }
}
