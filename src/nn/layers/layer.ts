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
 * - What backward needs from forward goes through `saved` (SavedTensors), and
 *   buffers through `Scratch`, so that managed memory mode (src/nn/memory,
 *   docs/memory.md) can pool the buffers and seal saved tensors out. In that
 *   mode returned tensors are pool leases the caller releases, temporaries are
 *   released by the layer (`scratch.release`), and backward requires a
 *   training forward.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { LinearExecutor, OpTag } from '../executor.js';
import type { ActivationMemory } from '../memory/activation-memory.js';
import type { SavedTensors } from '../memory/saved.js';
import type { TensorPool } from '../memory/tensor-pool.js';
import type { Rng } from '../rng.js';
import type { Buffer, Parameter } from './parameter.js';

export { type Buffer, makeParameter, type Parameter, parameterSize, TensorParameter } from './parameter.js';


/** A conv or linear op site, in forward order. */
export interface LinearLayerInfo {
  tag: OpTag;
  kind: 'conv' | 'linear';
}

/** What layers share with their model: the current executor and the seeded Rng. */
export interface LayerContext {
  readonly executor: LinearExecutor;
  readonly rng: Rng;
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
   * unseals exactly these around the layer's forward and backward (sequential.ts).
   */
  ownParameters?(): Parameter[];
  buffers(): Buffer[];
  linearLayers(): LinearLayerInfo[];
  /** Forward FLOPs (2 per multiply-add) of its conv/linear products, per sample. */
  flops(inShape: readonly number[]): number;
  /** What this layer keeps for backward (absent: nothing, or only through its children). */
  readonly saved?: SavedTensors;
  /** True for a layer that runs chains of other layers (residual block): managed mode hooks its children, not it. */
  readonly composite?: boolean;
  /** Switches the layer (and its children) to managed memory mode, or back with null. */
  attachMemory?(m: ActivationMemory | null): void;
}

/**
 * Per-layer scratch memory reused across steps: `get(key, n)` returns the same
 * Float32Array for the same (key, n) (its old contents included). A few sizes
 * are kept per key, so alternating train/test batch sizes does not reallocate.
 * `getInt` does the same for Int32Arrays (e.g. max-pool argmax indices).
 *
 * Managed memory mode (`attach(pool)`): every get is a fresh lease from the
 * shared pool (contents undefined) that someone must release — the chain for
 * outputs, the saved-tensor record for adopted buffers, the layer itself for
 * temporaries via `release`, which is a no-op otherwise.
 */
export class Scratch {
  private readonly f32 = new Map<string, Float32Array[]>();
  private readonly i32 = new Map<string, Int32Array[]>();
  private pool: TensorPool | null = null;
  constructor(private readonly keep = 3) {}

  /** Managed mode with `pool`, or back to private buffers with null; drops the private buffers. */
  attach(pool: TensorPool | null): void {
    this.pool = pool;
    this.f32.clear();
    this.i32.clear();
  }

  get(key: string, n: number): Float32Array {
    if (this.pool !== null) return this.pool.f32(n);
    return this.take(this.f32, key, n, (m) => new Float32Array(m));
  }

  getInt(key: string, n: number): Int32Array {
    if (this.pool !== null) return this.pool.i32(n);
    return this.take(this.i32, key, n, (m) => new Int32Array(m));
  }

  /** Returns a temporary to the pool in managed mode; no-op otherwise (the buffer stays this layer's). */
  release(a: Float32Array | Int32Array): void {
    this.pool?.release(a);
  }

  private take<T extends { length: number }>(slots: Map<string, T[]>, key: string, n: number, make: (n: number) => T): T {
    let list = slots.get(key);
    if (list === undefined) {
      list = [];
      slots.set(key, list);
    }
    for (let i = 0; i < list.length; i++) {
      const a = list[i];
      if (a.length === n) {
        if (i !== list.length - 1) {
          list.splice(i, 1);
          list.push(a); // most recently used last
        }
        return a;
      }
    }
    const a = make(n);
    list.push(a);
    if (list.length > this.keep) list.shift();
    return a;
  }
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
  buffers(): Buffer[] {
    return [];
  }
  linearLayers(): LinearLayerInfo[] {
    return [];
  }
  flops(_inShape: readonly number[]): number {
    return 0;
  }
}
