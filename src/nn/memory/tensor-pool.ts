/**
 * The shared buffer pool of managed memory mode: every layer output, gradient, saved tensor and temporary
 * is a lease on one pooled ArrayBuffer, returned when its last holder releases it, so one VGG-11 step
 * needs a working set of a few activations instead of one private buffer per layer and role.
 *
 * - Size classes are quarter steps between powers of two (2^k · {1, 1.25, 1.5, 1.75}, ≥ 4 KiB): a freed
 *   8 MiB conv output is reused for the next 8 MiB (or 7.5 MiB) tensor of any layer. Rounding up costs at
 *   most 25 % (a 9 MiB VGG weight takes a 10 MiB buffer, not 16) and nothing on CIFAR/VGG activations.
 * - Leases are reference-counted per ArrayBuffer, because one buffer can be held by several parties at
 *   once: the chain that passes it to the next layer, and a saved-tensor record that keeps it for backward.
 * - Free buffers are kept for reuse (first touch of fresh memory costs ~11 µs per 4 KiB page here,
 *   docs/memory.md) but dropped when a new allocation would take the managed total over the budget, so the
 *   pool's footprint follows the working set instead of its historical maximum.
 * - Buffers that are not leases (the data loader's batch, a caller's tensor) pass through `release` and
 *   `retain` untouched: callers need not know who owns what.
 */
import type { MemoryBudget } from '../../tee/memory-budget.js';

const MIN_CLASS = 4096;

/** The pooled size class for `bytes`: the next 2^k · {1, 1.25, 1.5, 1.75}, at least 4 KiB (a multiple of 1 KiB). */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  const base = 2 ** Math.floor(Math.log2(bytes)); // ≥ 4096, so base / 4 is a whole number of KiB
  return base * Math.ceil((4 * bytes) / base) / 4;
}

export class TensorPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly refs = new Map<ArrayBuffer, number>();
  private allocatedBytes = 0;
  private inUseBytes = 0;
  private largest = 0;
  private fresh = 0;
  /** Highest in-use bytes since the innermost open mark, and the marks' entry values (nesting). */
  private peakInUse = 0;
  private readonly marks: { base: number; outerPeak: number }[] = [];

  constructor(private readonly budget: MemoryBudget) {}

  /** A Float32Array of n elements on a lease (contents undefined; the caller holds one reference). */
  f32(n: number): Float32Array {
    return new Float32Array(this.take(n * 4), 0, n);
  }

  /** An Int32Array of n elements on a lease. */
  i32(n: number): Int32Array {
    return new Int32Array(this.take(n * 4), 0, n);
  }

  /** A byte view of `bytes` bytes on a lease. */
  bytes(bytes: number): Uint8Array {
    return new Uint8Array(this.take(bytes), 0, bytes);
  }

  private take(bytes: number): ArrayBuffer {
    const cls = sizeClass(bytes);
    if (cls > this.largest) this.largest = cls;
    let buf = this.free.get(cls)?.pop() ?? this.takeLarger(cls);
    if (buf === undefined) {
      if (!this.budget.fits(cls)) this.evictFree(cls);
      buf = new ArrayBuffer(cls);
      this.allocatedBytes += cls;
      this.fresh++;
      this.budget.charge('pool', cls);
    }
    this.refs.set(buf, 1);
    this.inUseBytes += buf.byteLength;
    if (this.inUseBytes > this.peakInUse) this.peakInUse = this.inUseBytes;
    return buf;
  }

  /**
   * Best fit among free buffers of a larger class, at most 2× `cls`: under a tight budget, allocating the
   * exact class would mean dropping free buffers of other classes and touching fresh pages (measured: a
   * VGG-11 step at 90 MiB re-allocated 235 MiB per step that way — ~11 µs per 4 KiB, and garbage until V8
   * frees the dropped buffers).
   */
  private takeLarger(cls: number): ArrayBuffer | undefined {
    let best = 0;
    for (const [c, list] of this.free) if (c > cls && c <= 2 * cls && list.length > 0 && (best === 0 || c < best)) best = c;
    return best === 0 ? undefined : this.free.get(best)!.pop();
  }

  /** Whether `a` lives in a buffer leased from this pool. */
  owns(a: ArrayBufferView): boolean {
    return this.refs.has(a.buffer as ArrayBuffer);
  }

  /** Holders of `a`'s buffer (0 when it is not a lease). */
  refCount(a: ArrayBufferView): number {
    return this.refs.get(a.buffer as ArrayBuffer) ?? 0;
  }

  /** One more holder of `a`'s buffer; returns false (and does nothing) if it is not a lease. */
  retain(a: ArrayBufferView): boolean {
    const buf = a.buffer as ArrayBuffer;
    const n = this.refs.get(buf);
    if (n === undefined) return false;
    this.refs.set(buf, n + 1);
    return true;
  }

  /** Drops one holder of `a`'s buffer; the last one returns it to the free list. No-op for non-leases. */
  release(a: ArrayBufferView): void {
    const buf = a.buffer as ArrayBuffer;
    const n = this.refs.get(buf);
    if (n === undefined) return;
    if (n > 1) {
      this.refs.set(buf, n - 1);
      return;
    }
    this.refs.delete(buf);
    this.inUseBytes -= buf.byteLength;
    const list = this.free.get(buf.byteLength);
    if (list) list.push(buf);
    else this.free.set(buf.byteLength, [buf]);
  }

  /**
   * Ends the lease on `a`'s buffer for good: uncharged from the budget and never handed out again. For a
   * buffer something outside the pool may still read — a send still in flight after a failed protocol
   * attempt — where pooling it would let the next lease overwrite data on its way out. Only for a
   * single holder (throws otherwise); no-op for non-leases.
   */
  forget(a: ArrayBufferView): void {
    const buf = a.buffer as ArrayBuffer;
    const n = this.refs.get(buf);
    if (n === undefined) return;
    if (n !== 1) throw new Error(`TensorPool.forget: the buffer has ${n} holders, not 1`);
    this.refs.delete(buf);
    this.inUseBytes -= buf.byteLength;
    this.allocatedBytes -= buf.byteLength;
    this.budget.charge('pool', -buf.byteLength);
  }

  /**
   * Drops free buffers (other size classes than `keep` first, largest first) until `needed` more bytes
   * fit the budget or nothing free is left. Dropped buffers are garbage once unreferenced.
   */
  private evictFree(needed: number, keep = needed): void {
    this.dropInOrder(needed, [...this.free.keys()].sort((a, b) => (a === keep ? 1 : b === keep ? -1 : b - a)));
  }

  /** Drops free buffers, classes in the given order, until `needed` more bytes fit the budget. */
  private dropInOrder(needed: number, classes: number[]): void {
    for (const cls of classes) {
      const list = this.free.get(cls)!;
      while (list.length > 0 && !this.budget.fits(needed)) {
        list.pop();
        this.allocatedBytes -= cls;
        this.budget.charge('pool', -cls);
      }
      if (list.length === 0) this.free.delete(cls);
      if (this.budget.fits(needed)) return;
    }
  }

  /**
   * Drops free buffers until `bytes` more (charged outside the pool, e.g. a saved input batch) fit the
   * budget: the smallest single class that covers the deficit first, then the others largest first.
   */
  dropFreeFor(bytes: number): void {
    if (this.budget.fits(bytes)) return;
    const deficit = this.budget.managed + this.budget.fixed + bytes - this.budget.budgetBytes;
    const byDesc = [...this.free.keys()].sort((a, b) => b - a);
    const cover = byDesc.filter((c) => c >= deficit).at(-1);
    this.dropInOrder(bytes, cover === undefined ? byDesc : [cover, ...byDesc.filter((c) => c !== cover)]);
  }

  /** Drops every free buffer (e.g. after an evaluation pass at a larger batch). */
  trim(): void {
    for (const [cls, list] of this.free) {
      this.allocatedBytes -= cls * list.length;
      this.budget.charge('pool', -cls * list.length);
    }
    this.free.clear();
  }

  /** Bytes of leased buffers (in use by someone). */
  get inUse(): number {
    return this.inUseBytes;
  }

  /** Bytes of all buffers the pool holds (leased + free): what is actually resident. */
  get allocated(): number {
    return this.allocatedBytes;
  }

  /** Leases outstanding. */
  get leases(): number {
    return this.refs.size;
  }

  /** Buffers allocated fresh so far (a steady-state step should add none). */
  get allocations(): number {
    return this.fresh;
  }

  /** The largest size class taken since the last `resetLargest`. */
  get largestTaken(): number {
    return this.largest;
  }

  resetLargest(v = 0): void {
    this.largest = v;
  }

  /**
   * Opens a working-set measurement (marks nest: a residual block's measurement contains its layers').
   * `closeMark` returns the most bytes leased at once since, beyond those in use at the mark.
   */
  openMark(): void {
    this.marks.push({ base: this.inUseBytes, outerPeak: this.peakInUse });
    this.peakInUse = this.inUseBytes;
  }

  closeMark(): number {
    const m = this.marks.pop();
    if (m === undefined) throw new Error('TensorPool.closeMark without openMark');
    const grown = this.peakInUse - m.base;
    this.peakInUse = Math.max(this.peakInUse, m.outerPeak);
    return Math.max(0, grown);
  }
}
