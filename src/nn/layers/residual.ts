/**
 * Residual add (ResNet's BasicBlock joint):  y = body(x) + shortcut(x),
 * with shortcut = identity when it has no layers (else e.g. a strided 1×1 conv + BN).
 * Backward: dx = ∂body/∂x·dy + ∂shortcut/∂x·dy (the identity passes dy through).
 */
import { Tensor } from '../../tensor/tensor.js';
import type { ActivationMemory } from '../memory/activation-memory.js';
import { type Buffer, type Layer, type LinearLayerInfo, type Parameter, Scratch } from './layer.js';
import {
  backwardChain,
  sameBuffer,
  chainBuffers,
  chainFlops,
  chainLinearLayers,
  chainOutputShape,
  chainParameters,
  forwardChain,
} from './sequential.js';

export class Residual implements Layer {
  readonly type = 'residual';
  private readonly scratch = new Scratch();
  private inShape: readonly number[] | null = null;
  readonly composite = true;
  private mem: ActivationMemory | null = null;

  constructor(
    readonly name: string,
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

  attachMemory(m: ActivationMemory | null): void {
    this.mem = m;
    this.scratch.attach(m?.pool ?? null);
    for (const l of [...this.body, ...this.shortcut]) l.attachMemory?.(m);
  }

  async forward(x: Tensor, training: boolean): Promise<Tensor> {
    const h = await forwardChain(this.body, x, training, this.mem);
    const s = await forwardChain(this.shortcut, x, training, this.mem);
    if (h.size !== s.size) throw new RangeError(`residual '${this.name}': branch sizes differ (${h.size} vs ${s.size})`);
    const y = this.scratch.get('y', h.size);
    const hd = h.data;
    const sd = s.data;
    for (let i = 0; i < y.length; i++) y[i] = hd[i] + sd[i];
    if (this.mem !== null) {
      if (!sameBuffer(h, x)) this.mem.release(h.data);
      if (!sameBuffer(s, x) && !sameBuffer(s, h)) this.mem.release(s.data);
    }
    this.inShape = x.shape;
    return new Tensor(h.shape, y);
  }

  async backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null> {
    if (this.inShape === null) throw new Error(`residual '${this.name}': backward called before forward`);
    const db = await backwardChain(this.body, dy, needInputGrad, this.mem);
    const ds = this.shortcut.length === 0 ? dy : await backwardChain(this.shortcut, dy, needInputGrad, this.mem);
    if (!needInputGrad || db === null || ds === null) return null;
    const dx = this.scratch.get('dx', db.size);
    const a = db.data;
    const b = ds.data;
    for (let i = 0; i < dx.length; i++) dx[i] = a[i] + b[i];
    if (this.mem !== null) {
      if (!sameBuffer(db, dy)) this.mem.release(db.data);
      if (!sameBuffer(ds, dy) && !sameBuffer(ds, db)) this.mem.release(ds.data);
    }
    return new Tensor(this.inShape, dx);
  }

  parameters(): Parameter[] {
    return [...chainParameters(this.body), ...chainParameters(this.shortcut)];
  }

  buffers(): Buffer[] {
    return [...chainBuffers(this.body), ...chainBuffers(this.shortcut)];
  }

  linearLayers(): LinearLayerInfo[] {
    return [...chainLinearLayers(this.body), ...chainLinearLayers(this.shortcut)];
  }

  flops(s: readonly number[]): number {
    return chainFlops(this.body, s) + chainFlops(this.shortcut, s);
  }
}
