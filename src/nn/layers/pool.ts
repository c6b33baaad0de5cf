/**
 * Pooling windows (shared with avgpool.ts) and max pooling over NCHW planes; the loops are
 * the process's kernels (../kernels/reference-pool.ts). Output size per axis: floor((H + 2·pad − k) / stride) + 1,
 * or with `ceil` ceil(…) + 1 minus one if the last window would start beyond
 * H + pad (PyTorch's ceil_mode). Padding must not exceed half the kernel (as in
 * PyTorch), so every window holds at least one real element.
 *
 *   MaxPool2d      y = max over the window (padding = −∞);  dx[argmax] += dy
 *                  (ties → the first maximum in row-major window order)
 *   AvgPool2d      y = Σ_window x / n  (padding counts as zeros), n = window size clipped to
 *                  the padded input (kH·kW unless a ceil-mode window overhangs);  dx[window] += dy / n
 *   GlobalAvgPool  [B,C,H,W] → [B,C], y = mean over H·W;  dx = dy / (H·W)
 */
import { Tensor } from '../../tensor/tensor.js';
import { nnKernels, type PoolGeometry } from '../kernels/index.js';
import { expectRank, type Layer, type LayerContext, ParameterFreeLayer } from './layer.js';

export interface PoolOptions {
  kH: number;
  kW: number;
  /** Default: the kernel size. */
  strideH?: number;
  strideW?: number;
  padH?: number;
  padW?: number;
  /** Ceil instead of floor for the output size (default false). */
  ceil?: boolean;
}

/** A pooling window: kernel, stride, padding per axis, and the output rounding. */
export interface Window {
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  pH: number;
  pW: number;
  ceil: boolean;
}

export function makeWindow(type: string, name: string, o: PoolOptions): Window {
  const w = { kH: o.kH, kW: o.kW, sH: o.strideH ?? o.kH, sW: o.strideW ?? o.kW, pH: o.padH ?? 0, pW: o.padW ?? 0 };
  for (const [k, v] of Object.entries(w)) {
    if (!Number.isInteger(v) || v < 0 || (v === 0 && k[0] !== 'p')) {
      throw new RangeError(`${type} '${name}': ${k} must be a ${k[0] === 'p' ? 'non-negative' : 'positive'} integer, got ${v}`);
    }
  }
  if (2 * w.pH > w.kH || 2 * w.pW > w.kW) throw new RangeError(`${type} '${name}': padding must be at most half the kernel`);
  return { ...w, ceil: o.ceil === true };
}

/** Pooled length of one axis. */
function pooledLength(n: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = n + 2 * p - k;
  if (span < 0) return 0;
  if (!ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= n + p) out--; // the last window must start inside the input or its left padding
  return out;
}

export function pooledShape(type: string, name: string, w: Window, s: readonly number[]): number[] {
  if (s.length !== 3) throw new RangeError(`${type} '${name}': expected input [C,H,W], got [${s.join(',')}]`);
  const oh = pooledLength(s[1], w.kH, w.sH, w.pH, w.ceil);
  const ow = pooledLength(s[2], w.kW, w.sW, w.pW, w.ceil);
  if (oh < 1 || ow < 1) {
    throw new RangeError(`${type} '${name}': window ${w.kH}×${w.kW} does not fit input ${s[1]}×${s[2]} (padding ${w.pH}×${w.pW})`);
  }
  return [s[0], oh, ow];
}

/** What MaxPool2d and AvgPool2d share: the window, the output shape, the context, the input shape for backward. */
export abstract class WindowPool extends ParameterFreeLayer implements Layer {
  readonly window: Window;
  protected inShape: readonly number[] | null = null;

  constructor(
    readonly name: string,
    protected readonly ctx: LayerContext,
    readonly type: 'maxpool' | 'avgpool',
    o: PoolOptions,
  ) {
    super();
    this.window = makeWindow(type, name, o);
  }

  abstract forward(x: Tensor, training: boolean): Promise<Tensor>;
  abstract backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null>;

  outputShape(s: readonly number[]): number[] {
    return pooledShape(this.type, this.name, this.window, s);
  }

  /** The kernels' geometry for an input of shape [B, C, H, W] (outputShape checks that the window fits). */
  protected geometry(shape: readonly number[]): PoolGeometry {
    const [B, C, H, W] = shape;
    const [, outH, outW] = this.outputShape(shape.slice(1));
    const w = this.window;
    return { planes: B * C, inH: H, inW: W, outH, outW, kH: w.kH, kW: w.kW, strideH: w.sH, strideW: w.sW, padH: w.pH, padW: w.pW };
  }
}

export class MaxPool2d extends WindowPool {
  constructor(name: string, ctx: LayerContext, o: PoolOptions) {
    super(name, ctx, 'maxpool', o);
  }

  async forward(x: Tensor, _training: boolean): Promise<Tensor> {
    expectRank(this, x, 4);
    const g = this.geometry(x.shape);
    const n = g.planes * g.outH * g.outW;
    const y = this.ctx.mem.f32(this, 'y', n);
    const idx = this.ctx.mem.i32(this, 'idx', n);
    nnKernels().maxPoolForward(g, x.data, y, idx);
    this.ctx.mem.saveInt(this, 'idx', idx); // the argmax of every output
    this.inShape = x.shape;
    return new Tensor([x.shape[0], x.shape[1], g.outH, g.outW], y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    const shape = this.inShape;
    if (shape === null) throw new Error(`maxpool '${this.name}': backward called before forward`);
    if (!needInputGrad) return null;
    const idx = this.ctx.mem.loadInt(this, 'idx');
    const dx = this.ctx.mem.f32(this, 'dx', shape.reduce((a, b) => a * b, 1));
    nnKernels().maxPoolBackward(idx, dy.data, dx);
    return new Tensor(shape, dx);
  }
}
