/**
 * Managed mode's side of the layer-memory contract (layer-memory.ts): per layer, the leases of its
 * current call and its saved-tensor records. A call's buffers are pool leases; when the call returns, the
 * chain's endLayer ends every one but the returned output, so a buffer the layer saved survives only
 * through the saved record's own hold. That is the whole ownership rule: layers never release anything.
 */
import type { Tensor } from '../../tensor/tensor.js';
import { type MemoryOwner, sharesBuffer } from './layer-memory.js';
import { SavedTensors } from './saved.js';
import type { TensorPool } from './tensor-pool.js';
import type { TensorStore } from './tensor-store.js';

interface Owned {
  readonly saved: SavedTensors;
  readonly leases: ArrayBufferView[];
}

export class PooledCalls {
  readonly #owners = new WeakMap<MemoryOwner, Owned>();

  constructor(
    private readonly pool: TensorPool,
    private readonly store: TensorStore,
  ) {}

  #of(owner: MemoryOwner): Owned {
    let o = this.#owners.get(owner);
    if (o === undefined) this.#owners.set(owner, (o = { saved: new SavedTensors(owner.name, this.store), leases: [] }));
    return o;
  }

  f32(owner: MemoryOwner, _key: string, n: number): Float32Array {
    const a = this.pool.f32(n);
    this.#of(owner).leases.push(a);
    return a;
  }

  i32(owner: MemoryOwner, _key: string, n: number): Int32Array {
    const a = this.pool.i32(n);
    this.#of(owner).leases.push(a);
    return a;
  }

  saved(owner: MemoryOwner): SavedTensors {
    return this.#of(owner).saved;
  }

  /** The owner's saved tensors, or null if it never saved or leased anything. */
  savedIfAny(owner: MemoryOwner): SavedTensors | null {
    return this.#owners.get(owner)?.saved ?? null;
  }

  /**
   * End of the owner's call: its leases end except the one it returned (now the caller's). After a throw
   * (`ok` false) they are only forgotten, never released: an executor may still hold one it was given.
   */
  end(owner: MemoryOwner, ok: boolean, out: Tensor | null): void {
    const o = this.#owners.get(owner);
    if (o === undefined) return;
    const leases = o.leases.splice(0);
    if (!ok) return;
    for (const a of leases) if (out === null || a.buffer !== out.data.buffer) this.pool.release(a);
  }

  /** Gives `t`'s buffer back unless one of `stillHeld` shares it (no-op for buffers the pool does not own). */
  drop(t: Tensor, stillHeld: readonly (Tensor | null)[]): void {
    if (!sharesBuffer(t, stillHeld)) this.pool.release(t.data);
  }
}
