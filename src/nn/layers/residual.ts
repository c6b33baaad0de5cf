/**
 * Residual add (ResNet's BasicBlock joint):  y = body(x) + shortcut(x),
 * with shortcut = identity when it has no layers (else e.g. a strided 1×1 conv + BN).
 * Backward: dx = ∂body/∂x·dy + ∂shortcut/∂x·dy (the identity passes dy through).
 */
import { Tensor } from '../../tensor/tensor.js';
import { type ModelBuffer, type Layer, type LayerContext, type LinearLayerInfo, type Parameter } from './layer.js';
import { backwardChain, chainBuffers, chainFlops, chainLinearLayers, chainOutputShape, chainParameters, forwardChain } from './sequential.js';

export class Residual implements Layer {
  readonly type = 'residual';
  private inShape: readonly number[] | null = null;
  readonly composite = true;

  constructor(
    readonly name: string,
    private readonly ctx: LayerContext,
    readonly body: readonly Layer[],
    readonly shortcut: readonly Layer[],
  ) {
    if (body.length === 0) throw new RangeError(`residual '${name}': the body needs at least one layer`);
  }

  outputShape(s: readonly number[]): number[] {
    const a = chainOutputShape(this.body, s);
    const b = chainOutputShape(this.shortcut, s);
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) {
      throw new RangeError(`residual '${this.name}': body gives [${a.join(',')}] but shortcut gives [${b.join(',')}]`);
    }
    return a;
  }

  async forward(x: Tensor, training: boolean): Promise<Tensor> {
    const mem = this.ctx.mem;
    const h = await forwardChain(this.body, x, training, mem);
    const s = await forwardChain(this.shortcut, x, training, mem);
    if (h.size !== s.size) throw new RangeError(`residual '${this.name}': branch sizes differ (${h.size} vs ${s.size})`);
    const y = mem.f32(this, 'y', h.size);
    const hd = h.data;
    const sd = s.data;
    for (let i = 0; i < y.length; i++) y[i] = hd[i] + sd[i];
    // the branch outputs are ours now; the identity shortcut hands on x itself, which stays the caller's
    mem.drop(h, x);
    mem.drop(s, x, h);
    this.inShape = x.shape;
    return new Tensor(h.shape, y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    if (this.inShape === null) throw new Error(`residual '${this.name}': backward called before forward`);
    const mem = this.ctx.mem;
    const db = await backwardChain(this.body, dy, needInputGrad, mem);
    const ds = this.shortcut.length === 0 ? dy : await backwardChain(this.shortcut, dy, needInputGrad, mem);
    if (!needInputGrad || db === null || ds === null) return null;
    const dx = mem.f32(this, 'dx', db.size);
    const a = db.data;
    const b = ds.data;
    for (let i = 0; i < dx.length; i++) dx[i] = a[i] + b[i];
    mem.drop(db, dy);
    mem.drop(ds, dy, db);
    return new Tensor(this.inShape, dx);
  }

  parameters(): Parameter[] {
    return [...chainParameters(this.body), ...chainParameters(this.shortcut)];
  }

  buffers(): ModelBuffer[] {
    return [...chainBuffers(this.body), ...chainBuffers(this.shortcut)];
  }

  linearLayers(): LinearLayerInfo[] {
    return [...chainLinearLayers(this.body), ...chainLinearLayers(this.shortcut)];
  }

  flops(s: readonly number[]): number {
    return chainFlops(this.body, s) + chainFlops(this.shortcut, s);
  }
}
