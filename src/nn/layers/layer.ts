/**
 * The layer contract shared by every building block of a model.
 *
 * Conventions (all layers):
 * - Tensors are batch-first: x has shape [B, ...sample shape] (images NCHW).
 * - One calling convention: forward and backward always return a Promise (a conv/linear product may
 *   wait for the workers; the others resolve at once), so callers always `await` them.
 * - forward(x) returns a tensor whose buffer the layer owns and reuses on the
 *   next call with the same batch size; it stays valid until then.
 * - backward(dy) must follow the forward of the same batch. It *accumulates*
 *   parameter gradients (grad += ∂L/∂θ) and returns dx = ∂L/∂x in a buffer the
 *   layer owns, or null when `needInputGrad` is false (e.g. the first layer:
 *   that saves one outsourced grad-input product per step).
 * - Layers never write into their inputs x or dy.
 * - Conv/linear products go only through `ctx.executor.run` (plain, quantized
 *   or secure); everything else is computed by the layer in float32.
 * - Memory goes only through `ctx.mem` (../memory/layer-memory.ts, docs/memory.md): buffers from
 *   `ctx.mem.f32/i32(this, key, n)`, what backward needs from forward by `ctx.mem.save(this, slot, t)`
 *   and `ctx.mem.load(this, slot)`. A layer says what it needs, never how it is stored or when it is
 *   freed: the buffer it returns passes to the caller, the others end with the call unless saved.
 *   `Model.attachMemory` swaps `ctx.mem` (private buffers ↔ the budgeted pool with sealing), as
 *   `setExecutor` swaps the executor; with managed memory backward requires a training forward.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { LinearExecutor, OpTag } from '../executor.js';
import type { LayerMemory } from '../memory/layer-memory.js';
import type { Rng } from '../rng.js';
import type { ModelBuffer, Parameter } from './parameter.js';

export { type ModelBuffer, makeParameter, type Parameter, parameterSize, TensorParameter } from './parameter.js';

/** A conv or linear op site, in forward order. */
export interface LinearLayerInfo {
  tag: OpTag;
  kind: 'conv' | 'linear';
}

/** What layers share with their model: the current executor, the seeded Rng and the current memory. */
export interface LayerContext {
  readonly executor: LinearExecutor;
  readonly rng: Rng;
  readonly mem: LayerMemory;
}

export interface Layer {
  /** Dotted id within the model, e.g. `4` or `7.body.0`. */
  readonly name: string;
  /** Short type name for summaries (`conv`, `relu`, …). */
  readonly type: string;
  /** Per-sample output shape for a per-sample input shape; throws on impossible geometry. */
  outputShape(inShape: readonly number[]): number[];
  forward(x: Tensor, training: boolean): Promise<Tensor>;
  backward(dy: Tensor, needInputGrad: boolean): Promise<Tensor | null>;
  parameters(): Parameter[];
  /**
   * The parameters this layer itself reads in its forward/backward (conv, linear, BN), as opposed to
   * those of its children (residual, sequential: absent). Managed memory with sealed parameters
   * unseals exactly these around the layer's forward and backward (ManagedMemory.beginLayer).
   */
  ownParameters?(): Parameter[];
  buffers(): ModelBuffer[];
  linearLayers(): LinearLayerInfo[];
  /** Forward FLOPs (2 per multiply-add) of its conv/linear products, per sample. */
  flops(inShape: readonly number[]): number;
  /** True for a layer that runs chains of other layers (residual block): managed mode hooks its children, not it. */
  readonly composite?: boolean;
}

/** Throws unless x has the given rank. */
export function expectRank(layer: Layer, x: Tensor, rank: number): void {
  if (x.shape.length !== rank) {
    throw new RangeError(`${layer.type} '${layer.name}': expected a rank-${rank} input, got shape [${x.shape.join(',')}]`);
  }
}

/** Base for layers without parameters, buffers or products. */
export abstract class ParameterFreeLayer {
  abstract readonly name: string;
  parameters(): Parameter[] {
    return [];
  }
  buffers(): ModelBuffer[] {
    return [];
  }
  linearLayers(): LinearLayerInfo[] {
    return [];
  }
  flops(_inShape: readonly number[]): number {
    return 0;
  }
}

/** Base for parameter-free layers whose output has the input's shape and that use the context (ReLU, dropout). */
export abstract class ShapePreservingLayer extends ParameterFreeLayer {
  constructor(
    readonly name: string,
    protected readonly ctx: LayerContext,
  ) {
    super();
  }

  outputShape(s: readonly number[]): number[] {
    return s.slice();
  }
}
