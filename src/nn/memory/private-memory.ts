/**
 * Unmanaged memory (the default `ctx.mem`, layer-memory.ts): every layer owns its buffers, reused by name
 * across steps (NamedBuffers), and keeps its saved tensors as plain references. Nothing is counted, pooled
 * or sealed, so the hooks do nothing: a layer's output stays valid until its next call.
 */
import { NamedBuffers } from '../../backend/named-buffers.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerMemory, MemoryOwner } from './layer-memory.js';
import { SavedTensors } from './saved.js';

interface Owned {
  readonly buffers: NamedBuffers;
  readonly saved: SavedTensors;
}

export class PrivateMemory implements LayerMemory {
  readonly #owners = new WeakMap<MemoryOwner, Owned>();

  #of(owner: MemoryOwner): Owned {
    let o = this.#owners.get(owner);
    if (o === undefined) this.#owners.set(owner, (o = { buffers: new NamedBuffers(), saved: new SavedTensors(owner.name, null) }));
    return o;
  }

  f32(owner: MemoryOwner, key: string, n: number): Float32Array {
    return this.#of(owner).buffers.float32(key, n);
  }

  i32(owner: MemoryOwner, key: string, n: number): Int32Array {
    return this.#of(owner).buffers.int32(key, n);
  }

  save(owner: MemoryOwner, slot: string, t: Tensor): void {
    this.#of(owner).saved.save(slot, t);
  }

  saveInt(owner: MemoryOwner, slot: string, a: Int32Array): void {
    this.#of(owner).saved.saveInt(slot, a);
  }

  load(owner: MemoryOwner, slot: string): Tensor {
    return this.#of(owner).saved.tensor(slot);
  }

  loadInt(owner: MemoryOwner, slot: string): Int32Array {
    return this.#of(owner).saved.int(slot);
  }

  drop(): void {}
  beginForward(): void {}
  beginBackward(): void {}
  endBackward(): void {}
  beginLayer(): void {}
  endLayer(): void {}
}
