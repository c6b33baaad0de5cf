/**
 * What Conv2d and Linear share: both own a weight W (and an optional
 * per-output-channel bias), keep their input for backward, and hand their
 * products to the executor. The base class holds the common bookkeeping
 * (parameters, op-site listing); the backward pass is:
 *
 *   dW += f(dY, X)                         (grad-weight op, accumulating in place: RunOptions;
 *                                           dW = f(dY, X) when dW is a pending zero: parameter.ts)
 *   db += Σ_{n, spatial} dY[n, c, ·]       (per output channel c)
 *   dX  = f(W, dY)                         (grad-input op; skipped when unused)
 */
import type { BilinearOp } from '../../backend/bilinear.js';
import { Tensor } from '../../tensor/tensor.js';
import type { OpTag } from '../executor.js';
import { nnKernels } from '../kernels/index.js';
import { type ModelBuffer, type LayerContext, type LinearLayerInfo, type Parameter } from './layer.js';
import { gradientTarget } from './parameter.js';

export interface LinearOpLayerParts {
  readonly name: string;
  readonly ctx: LayerContext;
  readonly tag: OpTag;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
}

/** Base of Conv2d and Linear: parameters, buffers and op site of a weight layer (both save their input x for grad-weight). */
export abstract class LinearOpLayer implements LinearOpLayerParts {
  abstract readonly type: 'conv' | 'linear';
  abstract readonly weight: Parameter;
  abstract readonly bias: Parameter | null;

  constructor(
    readonly name: string,
    readonly ctx: LayerContext,
    readonly tag: OpTag,
  ) {}

  parameters(): Parameter[] {
    return this.bias === null ? [this.weight] : [this.weight, this.bias];
  }

  ownParameters(): Parameter[] {
    return this.parameters();
  }

  buffers(): ModelBuffer[] {
    return [];
  }

  linearLayers(): LinearLayerInfo[] {
    return [{ tag: this.tag, kind: this.type }];
  }
}

// grad-weight: x is the forward's input, unchanged (bilinear.ts OperandReuse), and dW adds to the gradient;
// grad-input: W is the forward's weight (the update comes after backward), dy the one grad-weight used
const GRAD_WEIGHT = { reuse: { a: false, b: true }, accumulate: true } as const;
const GRAD_WEIGHT_FRESH = { reuse: { a: false, b: true } } as const;
const GRAD_INPUT = { reuse: { a: true, b: true } } as const;

export async function backwardLinearOp(
  l: LinearOpLayerParts,
  ops: { readonly gradWeight: BilinearOp; readonly gradInput: BilinearOp },
  x: Tensor,
  dy: Tensor,
  channels: number,
  plane: number,
  needInputGrad: boolean,
): Promise<Tensor | null> {
  const dw = gradientTarget(l.weight);
  await l.ctx.executor.run(ops.gradWeight, l.tag, dy.data, x.data, dw.grad, dw.overwrite ? GRAD_WEIGHT_FRESH : GRAD_WEIGHT);
  if (l.bias !== null) reduceChannelBias(l.bias.grad, dy.data, x.shape[0], channels, plane);
  if (!needInputGrad) return null;
  const dx = l.ctx.mem.f32(l, 'dx', x.size);
  await l.ctx.executor.run(ops.gradInput, l.tag, l.weight.value, dy.data, dx, GRAD_INPUT);
  return new Tensor(x.shape, dx);
}

// The loops are the process's kernels (../kernels/reference-elementwise.ts).

/** y[n,c,·] += b[c] over planes of `plane` elements. */
export function addChannelBias(y: Float32Array, b: Float32Array, batch: number, channels: number, plane: number): void {
  nnKernels().addChannelBias(y, b, batch, channels, plane);
}

/** g[c] += Σ_n Σ_{i < plane} dy[n, c, i]  (float64 sum in the kernels' lane order). */
export function reduceChannelBias(g: Float32Array, dy: Float32Array, batch: number, channels: number, plane: number): void {
  nnKernels().reduceChannelBias(g, dy, batch, channels, plane);
}
