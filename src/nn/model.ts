/**
 * The model contract the trainer, checkpoints and executors code against, and
 * its one implementation: a chain of layers (residual blocks nest chains).
 *
 * One training step is `trainStep` (train-step.ts): forward, loss, backward, the optimizer update
 * (inside backward with managed memory and sealed parameters), the executor's end of step.
 * The logits tensor is owned by the model and overwritten by the next forward.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { LinearExecutor, OpTag } from './executor.js';
import { type ModelBuffer, type Layer, type LayerContext, type Parameter, parameterSize } from './layers/layer.js';
import { zeroGradient } from './layers/parameter.js';
import type { ManagedMemory } from './memory/managed-memory.js';
import { type LayerMemory, sameBuffer } from './memory/layer-memory.js';
import { PrivateMemory } from './memory/private-memory.js';
import { backwardChain, chainOutputShape, forwardChain } from './layers/sequential.js';
import type { Rng } from './rng.js';

export type { ModelBuffer, Parameter } from './layers/layer.js';

export interface Model {
  readonly name: string;
  /** Per-sample input shape [C, H, W]. */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  /** Logits [B, numClasses] for x [B, C, H, W]; training selects batch statistics and dropout. */
  forward(x: Tensor, training: boolean): Promise<Tensor>;
  /** Back-propagates ∂L/∂logits of the last forward; accumulates into every Parameter.grad. */
  backward(dLogits: Tensor): Promise<void>;
  /** Learnable tensors in a stable order (forward order). */
  parameters(): Parameter[];
  /** BatchNorm running statistics in a stable order. */
  buffers(): ModelBuffer[];
  zeroGrad(): void;
  setExecutor(e: LinearExecutor): void;
  executor(): LinearExecutor;
  /** Every conv/linear op site in forward order (tag.index = position). */
  linearLayers(): { tag: OpTag; kind: 'conv' | 'linear' }[];
  /** The model's seeded generator (initialisation, then dropout masks). */
  rng: Rng;
  /** Swaps the layers' memory (`ctx.mem`, docs/memory.md): a managed-memory manager, or private buffers with null. */
  attachMemory(m: ManagedMemory | null): void;
  /** The attached memory manager, if any. */
  memory(): ManagedMemory | null;
}

/** One row of a model summary. */
export interface LayerSummary {
  name: string;
  type: string;
  outputShape: number[];
  params: number;
  /** Forward FLOPs per sample of the layer's conv/linear products (2 per multiply-add). */
  flops: number;
}

/** Mutable context shared with the layers (setExecutor swaps the executor for all of them, attachMemory the memory). */
export interface ModelContext extends LayerContext {
  executor: LinearExecutor;
  rng: Rng;
  mem: LayerMemory;
}

/** A fresh context: unmanaged memory (each layer's own buffers). */
export function modelContext(executor: LinearExecutor, rng: Rng): ModelContext {
  return { executor, rng, mem: new PrivateMemory() };
}

export class SequentialModel implements Model {
  private readonly params: Parameter[];
  private readonly bufs: ModelBuffer[];
  private mem: ManagedMemory | null = null;
  /** The last logits (managed mode: a pool lease), dropped by the next forward. */
  private lastOut: Tensor | null = null;

  constructor(
    readonly name: string,
    readonly inputShape: readonly [number, number, number],
    readonly numClasses: number,
    readonly layers: readonly Layer[],
    private readonly ctx: ModelContext,
  ) {
    const out = chainOutputShape(layers, inputShape);
    if (out.length !== 1 || out[0] !== numClasses) {
      throw new RangeError(`model '${name}': output shape [${out.join(',')}] is not [${numClasses}] (numClasses)`);
    }
    this.params = layers.flatMap((l) => l.parameters());
    this.bufs = layers.flatMap((l) => l.buffers());
    const seen = new Set<string>();
    for (const t of [...this.params, ...this.bufs]) {
      if (seen.has(t.name)) throw new RangeError(`model '${name}': duplicate tensor name '${t.name}'`);
      seen.add(t.name);
    }
  }

  get rng(): Rng {
    return this.ctx.rng;
  }

  set rng(r: Rng) {
    this.ctx.rng = r;
  }

  async forward(x: Tensor, training: boolean): Promise<Tensor> {
    const s = this.inputShape;
    if (x.shape.length !== 4 || x.shape[1] !== s[0] || x.shape[2] !== s[1] || x.shape[3] !== s[2]) {
      throw new RangeError(`model '${this.name}': expected input [B,${s.join(',')}], got [${x.shape.join(',')}]`);
    }
    const mem = this.ctx.mem;
    if (this.lastOut !== null) mem.drop(this.lastOut);
    this.lastOut = null;
    await mem.beginForward(training, x.shape[0]);
    const y = await forwardChain(this.layers, x, training, mem);
    if (!sameBuffer(y, x)) this.lastOut = y;
    return y;
  }

  async backward(dLogits: Tensor): Promise<void> {
    const mem = this.ctx.mem;
    await mem.beginBackward();
    await backwardChain(this.layers, dLogits, false, mem);
    await mem.endBackward();
  }

  /**
   * Managed memory mode: swaps the layers' `ctx.mem` for `m`, so every layer takes its buffers from `m`'s
   * pool and saves for backward into `m`'s store, which seals it out when the budget requires. null
   * returns to private per-layer buffers (what was saved is forgotten). Numerics are identical either
   * way. Switch between steps, not inside one.
   */
  attachMemory(m: ManagedMemory | null): void {
    this.mem?.trackModel(null); // first: refused while the parameters are sealed out (unsealParameters)
    if (this.lastOut !== null) this.ctx.mem.drop(this.lastOut);
    this.lastOut = null;
    this.ctx.mem = m ?? new PrivateMemory();
    this.mem = m;
    this.ctx.executor.attachMemory(m?.pool ?? null); // per-op buffers (operands, shares, results) from the same pool
    m?.trackModel(this);
  }

  memory(): ManagedMemory | null {
    return this.mem;
  }

  parameters(): Parameter[] {
    return this.params.slice();
  }

  buffers(): ModelBuffer[] {
    return this.bufs.slice();
  }

  zeroGrad(): void {
    // sealed parameters: gradients exist only during their layer's backward, leased zero-filled
    if (this.mem?.sealsParameters) return;
    for (const p of this.params) zeroGradient(p);
  }

  setExecutor(e: LinearExecutor): void {
    this.ctx.executor = e;
  }

  executor(): LinearExecutor {
    return this.ctx.executor;
  }

  linearLayers(): { tag: OpTag; kind: 'conv' | 'linear' }[] {
    return this.layers.flatMap((l) => l.linearLayers());
  }

  /** Number of learnable scalars. */
  parameterCount(): number {
    return this.params.reduce((a, p) => a + parameterSize(p), 0);
  }

  /** Forward FLOPs per sample of all conv/linear products. */
  flopsPerSample(): number {
    return this.summary().reduce((a, r) => a + r.flops, 0);
  }

  /** Per top-level layer: output shape, parameter count and forward FLOPs per sample. */
  summary(): LayerSummary[] {
    let shape: number[] = this.inputShape.slice();
    return this.layers.map((l) => {
      const flops = l.flops(shape);
      shape = l.outputShape(shape);
      return {
        name: l.name,
        type: l.type,
        outputShape: shape,
        params: l.parameters().reduce((a, p) => a + parameterSize(p), 0),
        flops,
      };
    });
  }
}
