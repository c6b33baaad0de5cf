/**
 * The one memory object layers talk to (`ctx.mem`, docs/memory.md). A layer says *what* it needs — a
 * buffer for its output or a temporary, a tensor to keep for backward — and never how that is stored:
 *
 *   const y = ctx.mem.f32(this, 'y', n)      a buffer for this call (its output or a temporary)
 *   ctx.mem.save(this, 'x', x)               keep x for backward, whoever owns its buffer
 *   const x = ctx.mem.load(this, 'x')        in backward
 *
 * Ownership is stated once, by the calling convention: a buffer from `f32`/`i32` belongs to the current
 * call; the one the layer returns passes to its caller, every other one ends with the call (`endLayer`,
 * run by the chain), unless `save` holds it for backward. Layers never release anything themselves.
 *
 * Two implementations, swapped by `Model.attachMemory` the way `setExecutor` swaps the executor:
 * - PrivateMemory (private-memory.ts, the default): each layer's buffers are its own, reused by name
 *   across steps; saved tensors are plain references; the hooks do nothing.
 * - ManagedMemory (managed-memory.ts, managed mode): buffers are leases on the budgeted TensorPool,
 *   saved tensors are TensorStore records that may be sealed out between forward and backward, and the
 *   hooks keep the enclave within its budget and (by default) keep parameters sealed between uses.
 */
import type { Tensor } from '../../tensor/tensor.js';
import type { Parameter } from '../layers/parameter.js';

/**
 * What the memory knows of a layer: its name (errors, sealed-chunk names) and identity (a map key). Layer
 * satisfies it; naming Layer here would make layers/layer.ts and this folder import each other.
 */
export interface MemoryOwner {
  readonly name: string;
  /** A layer that runs chains of other layers (residual block): the manager hooks its children, not it. */
  readonly composite?: boolean;
  /** The parameters the layer itself reads (unsealed around its forward and backward in sealed mode). */
  ownParameters?(): Parameter[];
}

export interface LayerMemory {

  /** A Float32Array of n elements for the current call, under `key` (contents undefined). */
  f32(owner: MemoryOwner, key: string, n: number): Float32Array;
  /** An Int32Array of n elements for the current call (max-pool's argmax indices). */
  i32(owner: MemoryOwner, key: string, n: number): Int32Array;

  /** Keeps `t` for the owner's backward; a later save under the same slot replaces it. */
  save(owner: MemoryOwner, slot: string, t: Tensor): void;
  saveInt(owner: MemoryOwner, slot: string, a: Int32Array): void;
  /** The tensor saved under `slot` by the last training forward; throws if there is none. */
  load(owner: MemoryOwner, slot: string): Tensor;
  loadInt(owner: MemoryOwner, slot: string): Int32Array;

  /**
   * The caller is done with `t` (an intermediate output or gradient it was handed): its hold ends, unless
   * `t` shares storage with one of `stillHeld` (the chain's own input, a pass-through output).
   */
  drop(t: Tensor, ...stillHeld: (Tensor | null)[]): void;

  /** Model hooks: start of a forward (training or not, batch size), start and end of a backward. */
  beginForward(training: boolean, batch: number): Promise<void> | void;
  beginBackward(): Promise<void> | void;
  endBackward(): Promise<void> | void;
  /**
   * Chain hooks around every layer call: `input` is forward's input (null in backward); `ok` whether the
   * call returned, and `out` what it returned (null: no input gradient, or it threw).
   */
  beginLayer(l: MemoryOwner, backward: boolean, input: Tensor | null): Promise<void> | void;
  endLayer(l: MemoryOwner, backward: boolean, training: boolean, ok: boolean, out: Tensor | null): Promise<void> | void;
}

/** Whether two tensors share their storage (views of one buffer). */
export function sameBuffer(a: Tensor, b: Tensor): boolean {
  return a.data.buffer === b.data.buffer;
}

/** Whether `t` shares storage with any of `others`. */
export function sharesBuffer(t: Tensor, others: readonly (Tensor | null)[]): boolean {
  return others.some((o) => o !== null && sameBuffer(t, o));
}
