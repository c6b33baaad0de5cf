/**
 * What one layer keeps from forward for backward (conv/linear: their input; BN: x̂; ReLU: its output;
 * max-pool: the argmax indices; dropout: its mask), per layer, inside the layer memory (layer-memory.ts):
 *
 *   forward:   ctx.mem.save(this, 'x', x)     whoever owns x's buffer
 *   backward:  ctx.mem.load(this, 'x')        resident again by then (the chain restores before backward)
 *
 * Unmanaged (no store): plain references. Managed: each entry is a reference to a SavedRecord of the
 * TensorStore, which holds its own reference on the buffer (the layer's call ends its own hold when it
 * returns) and may seal it out between forward and backward; `tensor()` then fails loudly if the chain
 * forgot to restore it.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { SavedRecord, TensorStore } from './tensor-store.js';

interface Entry {
  shape: readonly number[];
  int: boolean;
  /** Unmanaged: the data itself. */
  data: Float32Array | Int32Array | null;
  /** Managed: the store's record. */
  record: SavedRecord | null;
}

export class SavedTensors {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly owner: string,
    private readonly store: TensorStore | null,
  ) {}

  save(slot: string, t: Tensor): void {
    this.put(slot, t.shape, t.data, false);
  }

  saveInt(slot: string, a: Int32Array): void {
    this.put(slot, [a.length], a, true);
  }

  private put(slot: string, shape: readonly number[], data: Float32Array | Int32Array, int: boolean): void {
    const old = this.entries.get(slot);
    if (old?.record) {
      // A second forward without backward (evaluation, a repeated forward): the old record is dead.
      this.store!.release(old.record);
    }
    const record = this.store === null ? null : this.store.save(`${this.owner}.${slot}`, data);
    this.entries.set(slot, { shape, int, data: record === null ? data : null, record });
  }

  has(slot: string): boolean {
    return this.entries.has(slot);
  }

  /** The float tensor saved under `slot`. */
  tensor(slot: string): Tensor {
    const e = this.entry(slot, false);
    if (e.data !== null) return new Tensor(e.shape, e.data as Float32Array);
    const v = this.resident(slot, e);
    return new Tensor(e.shape, new Float32Array(v.buffer, v.byteOffset, v.byteLength / 4));
  }

  /** The Int32 buffer saved under `slot`. */
  int(slot: string): Int32Array {
    const e = this.entry(slot, true);
    if (e.data !== null) return e.data as Int32Array;
    const v = this.resident(slot, e);
    return new Int32Array(v.buffer, v.byteOffset, v.byteLength / 4);
  }

  private entry(slot: string, int: boolean): Entry {
    const e = this.entries.get(slot);
    if (e === undefined) throw new Error(`layer '${this.owner}': backward called before a training forward (nothing saved as '${slot}')`);
    if (e.int !== int) throw new TypeError(`layer '${this.owner}': '${slot}' was saved as ${e.int ? 'Int32' : 'Float32'}`);
    return e;
  }

  private resident(slot: string, e: Entry): Uint8Array {
    const v = e.record!.view;
    if (v === null) throw new Error(`layer '${this.owner}': saved tensor '${slot}' is offloaded and was not restored before backward`);
    return v;
  }

  /** Managed records of this layer (for the memory manager). */
  records(): SavedRecord[] {
    const out: SavedRecord[] = [];
    for (const e of this.entries.values()) if (e.record !== null) out.push(e.record);
    return out;
  }

  /** Forgets every entry; managed records are released (their last holder frees them). */
  clear(): void {
    const recs = this.records();
    this.entries.clear();
    for (const r of recs) this.store!.release(r);
  }
}
