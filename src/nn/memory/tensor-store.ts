/**
 * Saved-tensor records: the tensors layers keep from forward for backward, either resident in the enclave
 * or sealed out to untrusted storage (as the Goten paper's prototype does, docs/memory.md: it "directly encrypts the chunk of memory, and evicts it
 * to the untrusted zone ... loads the chunk into the enclave for decryption").
 *
 * - One record per saved buffer region. Two layers that save the same buffer (a ReLU's output is also the
 *   next conv's input) share the record: it is sealed and restored once.
 * - Offload seals the resident bytes in chunks of ≤ 1 MiB straight from the pooled buffer into a
 *   SealedChunkStore whose purpose is `activation:<layer>.<slot>`, version = the store's step counter,
 *   then drops the enclave copy (the lease goes back to the pool). The version table stays inside the
 *   enclave, so a swapped, replayed (older step), truncated or altered chunk fails on restore.
 * - Restore takes a pooled buffer and unseals the chunks into it one by one; nothing else is allocated
 *   in the enclave (the cipher works in 64 KiB pieces, seal.ts).
 * - When the last holder releases a record, its resident copy goes back to the pool and its sealed chunks
 *   are deleted from untrusted storage. Versions never repeat (a monotonic step counter), so deleting and
 *   rewriting chunks cannot let an old blob pass as current.
 * Tensor contents never appear in errors or logs; errors name the layer, slot, chunk and step.
 */
import { SealedChunkStore, type UntrustedBacking } from '../../tee/chunk-store.js';
import { SealError } from '../../tee/errors.js';
import type { MemoryBudget } from '../../tee/memory-budget.js';
import type { Sealer } from '../../tee/seal.js';
import type { TensorPool } from './tensor-pool.js';

/** Largest plaintext chunk sealed at once (the prototype's STORE_CHUNK_ELEM = 262 144 floats). */
export const MAX_CHUNK_BYTES = 1024 * 1024;

export class SavedRecord {
  /** Resident bytes (a pooled lease or someone else's buffer), or null while only sealed. */
  view: Uint8Array | null;
  /** Whether `view` is a pool lease held by this record (else it belongs to its owner: the loader's batch). */
  pooled: boolean;
  /** Chunks in untrusted storage (0 = not sealed) and the version they were sealed with. */
  chunks = 0;
  version = 0;
  /** Holders (layer slots); the record is freed when this reaches 0. */
  refs = 1;
  /** Set while a layer's backward runs on it (never spilled then). */
  pinned = false;

  readonly byteLength: number;

  constructor(
    readonly seq: number,
    /** `<layer>.<slot>` of the first saver: the chunks' purpose. */
    readonly name: string,
    view: Uint8Array,
    pooled: boolean,
  ) {
    this.view = view;
    this.pooled = pooled;
    this.byteLength = view.byteLength;
  }
}

export interface StoreStats {
  /** Bytes sealed out / restored, chunks written, since creation. */
  offloadedBytes: number;
  restoredBytes: number;
  chunksWritten: number;
  /** Milliseconds spent sealing / unsealing (including the backing's own time). */
  sealMs: number;
  unsealMs: number;
}

export class TensorStore {
  private seqNext = 0;
  private gen = 0;
  private readonly live = new Set<SavedRecord>();
  private readonly names = new Set<string>();
  private readonly streams = new Map<string, SealedChunkStore>();
  private externalBytes = 0;
  private readonly trash: { name: string; chunks: number }[] = [];
  readonly stats: StoreStats = { offloadedBytes: 0, restoredBytes: 0, chunksWritten: 0, sealMs: 0, unsealMs: 0 };

  constructor(
    private readonly budget: MemoryBudget,
    private readonly pool: TensorPool,
    private readonly sealer: Sealer,
    private readonly backing: UntrustedBacking,
    private readonly chunkBytes = MAX_CHUNK_BYTES,
  ) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 4 || chunkBytes % 4 !== 0 || chunkBytes > MAX_CHUNK_BYTES) {
      throw new RangeError(`chunk size must be a multiple of 4 bytes in [4, ${MAX_CHUNK_BYTES}], got ${chunkBytes}`);
    }
  }

  /** Starts a new step: the version every chunk sealed from now on carries (flush first). */
  beginStep(): void {
    if (this.trash.length > 0) throw new Error('TensorStore.beginStep: flush() the freed chunks first');
    this.gen++;
    this.names.clear();
  }

  get step(): number {
    return this.gen;
  }

  /**
   * Registers a saved tensor. The record takes a reference of its own on a pooled buffer (the buffer stays
   * its other holders' too: the layer call that leased it ends its hold when it returns).
   */
  save(name: string, data: ArrayBufferView): SavedRecord {
    const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (const r of this.live) {
      const v = r.view;
      if (v !== null && v.buffer === view.buffer && v.byteOffset === view.byteOffset && v.byteLength === view.byteLength) {
        r.refs++;
        return r;
      }
    }
    const pooled = this.pool.retain(data);
    if (!pooled) {
      this.pool.dropFreeFor(view.byteLength); // idle pool buffers count too: make the room from them
      this.externalBytes += view.byteLength;
      this.budget.charge('saved-external', view.byteLength);
    }
    let unique = name;
    for (let k = 2; this.names.has(unique); k++) unique = `${name}#${k}`;
    this.names.add(unique);
    const r = new SavedRecord(this.seqNext++, unique, view, pooled);
    this.live.add(r);
    return r;
  }

  /**
   * Drops one holder; the last one frees the resident copy at once and queues its sealed chunks for
   * deletion from untrusted storage (`flush`, run by the manager at the end of backward and before the
   * next step writes anything: names are unique per step, so a queued delete never hits a newer chunk).
   */
  release(r: SavedRecord): void {
    if (r.refs <= 0) throw new Error(`saved tensor '${r.name}' released more often than saved`);
    if (--r.refs > 0) return;
    this.live.delete(r);
    this.dropResident(r);
    // a name stays taken for the step only while chunks under it may still be deleted
    if (r.chunks > 0) this.trash.push({ name: r.name, chunks: r.chunks });
    else this.names.delete(r.name);
    r.chunks = 0;
  }

  /** Deletes the sealed chunks of freed records. */
  async flush(): Promise<void> {
    const t = this.trash.splice(0);
    for (const { name, chunks } of t) {
      const s = this.stream(name);
      for (let i = 0; i < chunks; i++) await s.delete(String(i));
    }
  }

  private dropResident(r: SavedRecord): void {
    const v = r.view;
    if (v === null) return;
    r.view = null;
    if (r.pooled) this.pool.release(v);
    else {
      this.externalBytes -= v.byteLength;
      this.budget.charge('saved-external', -v.byteLength);
    }
  }

  private stream(name: string): SealedChunkStore {
    let s = this.streams.get(name);
    if (!s) {
      s = new SealedChunkStore(this.sealer, this.backing, `activation:${name}`);
      this.streams.set(name, s);
    }
    return s;
  }

  /**
   * Seals a resident record out (if not sealed already this step) and frees its enclave copy.
   * Only pooled records free anything; the caller skips the others.
   */
  async offload(r: SavedRecord): Promise<void> {
    const v = r.view;
    if (v === null) return;
    if (r.chunks === 0) {
      const t0 = performance.now();
      const s = this.stream(r.name);
      const n = Math.max(1, Math.ceil(v.byteLength / this.chunkBytes));
      for (let i = 0; i < n; i++) {
        const piece = v.subarray(i * this.chunkBytes, Math.min(v.byteLength, (i + 1) * this.chunkBytes));
        await s.put(String(i), piece, this.gen);
      }
      r.chunks = n;
      r.version = this.gen;
      this.stats.offloadedBytes += v.byteLength;
      this.stats.chunksWritten += n;
      this.stats.sealMs += performance.now() - t0;
    }
    this.dropResident(r);
  }

  /** Brings an offloaded record back into a pooled buffer, chunk by chunk; refuses tampered chunks. */
  async restore(r: SavedRecord): Promise<void> {
    if (r.view !== null) return;
    const t0 = performance.now();
    const s = this.stream(r.name);
    const dst = this.pool.bytes(r.byteLength);
    try {
      for (let i = 0; i < r.chunks; i++) {
        const off = i * this.chunkBytes;
        await s.get(String(i), dst.subarray(off, Math.min(r.byteLength, off + this.chunkBytes)));
      }
    } catch (e) {
      this.pool.release(dst);
      if (e instanceof SealError) {
        throw new SealError(e.code, `offloaded activation '${r.name}' (step ${r.version}) could not be restored: ${e.message}`);
      }
      throw e;
    }
    r.view = dst;
    r.pooled = true;
    this.stats.restoredBytes += r.byteLength;
    this.stats.unsealMs += performance.now() - t0;
  }

  /** Resident records that offloading would free, oldest first (used last by backward). */
  spillable(): SavedRecord[] {
    return [...this.live].filter((r) => r.view !== null && r.pooled && !r.pinned).sort((a, b) => a.seq - b.seq);
  }

  /** Saved tensors held in buffers the pool does not own (counted, never spilled: freeing them is their owner's job). */
  get external(): number {
    return this.externalBytes;
  }

  /** Records alive (saved and not yet released by every holder). */
  get records(): number {
    return this.live.size;
  }

  /** Bytes of live records that are resident / only sealed. */
  residency(): { resident: number; sealed: number } {
    let resident = 0;
    let sealed = 0;
    for (const r of this.live) {
      if (r.view !== null) resident += r.byteLength;
      else sealed += r.byteLength;
    }
    return { resident, sealed };
  }
}
