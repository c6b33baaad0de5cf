/**
 * Grow-only scratch buffers, one per named slot, owned by one backend instance.
 *
 * First touch of fresh memory costs ~11 µs per 4 KiB page on these VMs, so the
 * kernels never allocate per call: they ask for a slot of at least `n` elements
 * and get the same (warm) array back until a larger request grows it. Growth is
 * geometric (×1.5) so a slowly increasing sequence of shapes reallocates O(log)
 * times. Contents are unspecified on return; callers initialise what they read.
 *
 * Not re-entrant: a backend instance is used from one thread, and no kernel
 * calls another kernel while holding a slot with the same name.
 */
type Ctor<T> = new (n: number) => T;

function grow(old: number, n: number): number {
  return Math.max(n, Math.ceil(old * 1.5));
}

export class Scratch {
  private readonly slots = new Map<string, Float64Array | Float32Array | Int32Array>();

  private get<T extends Float64Array | Float32Array | Int32Array>(slot: string, n: number, ctor: Ctor<T>): T {
    const have = this.slots.get(slot);
    if (have instanceof ctor && have.length >= n) return have as T;
    const fresh = new ctor(grow(have instanceof ctor ? have.length : 0, n));
    this.slots.set(slot, fresh);
    return fresh;
  }

  /** A Float64Array of length ≥ n for `slot`. */
  f64(slot: string, n: number): Float64Array {
    return this.get(slot, n, Float64Array);
  }

  /** A Float32Array of length ≥ n for `slot`. */
  f32(slot: string, n: number): Float32Array {
    return this.get(slot, n, Float32Array);
  }

  /** An Int32Array of length ≥ n for `slot`. */
  i32(slot: string, n: number): Int32Array {
    return this.get(slot, n, Int32Array);
  }

  /** Total bytes held (for diagnostics). */
  bytes(): number {
    let s = 0;
    for (const b of this.slots.values()) s += b.byteLength;
    return s;
  }
}
