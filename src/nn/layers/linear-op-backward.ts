/**
 * The backward pass shared by Conv2d and Linear: both own a weight W (and an
 * optional per-output-channel bias) and hand their products to the executor.
 *
 *   dW += f(dY, X)                         (grad-weight op)
 *   db += Σ_{n, spatial} dY[n, c, ·]       (per output channel c)
 *   dX  = f(W, dY)                         (grad-input op; skipped when unused)
 */
import type { BilinearOp } from '../../backend/bilinear.js';
import { Tensor } from '../../tensor/tensor.js';
import type { OpTag } from '../executor.js';
import type { LayerContext, Parameter, Scratch } from './layer.js';

export interface LinearOpLayerParts {
  readonly ctx: LayerContext;
  readonly tag: OpTag;
  readonly scratch: Scratch;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
}

export async function backwardLinearOp(
  l: LinearOpLayerParts,
  ops: { readonly gradWeight: BilinearOp; readonly gradInput: BilinearOp },
  x: Tensor,
  dy: Tensor,
  channels: number,
  plane: number,
  needInputGrad: boolean,
): Promise<Tensor | null> {
  const dw = l.scratch.get('dw', l.weight.value.length);
  await l.ctx.executor.run(ops.gradWeight, l.tag, dy.data, x.data, dw);
  accumulate(l.weight.grad, dw);
  l.scratch.release(dw);
  if (l.bias !== null) reduceChannelBias(l.bias.grad, dy.data, x.shape[0], channels, plane);
  if (!needInputGrad) return null;
  const dx = l.scratch.get('dx', x.size);
  await l.ctx.executor.run(ops.gradInput, l.tag, l.weight.value, dy.data, dx);
  return new Tensor(x.shape, dx);
}

/** g[c] += Σ_n Σ_{i < plane} dy[n, c, i]. */
export function reduceChannelBias(g: Float32Array, dy: Float32Array, batch: number, channels: number, plane: number): void {
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let n = 0; n < batch; n++) {
      const off = (n * channels + c) * plane;
      const end = off + plane;
      for (let i = off; i < end; i++) s += dy[i];
    }
    g[c] += s;
  }
}

/** acc += d, elementwise. */
export function accumulate(acc: Float32Array, d: Float32Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += d[i];
}
