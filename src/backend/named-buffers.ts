/**
 * Buffers reused by name: the one buffer-reuse mechanism of unmanaged mode (docs/memory.md, "Buffers"),
 * for the layers (nn/memory/private-memory.ts: one per layer) and for the executors' and workers' per-op
 * operands, shares and results (keyed by role). Fresh memory costs ~11 µs per 4 KiB page on these VMs, so a
 * name keeps its buffer across steps; it only grows (a smaller request gets a view of the same backing
 * store), so alternating batch sizes allocate nothing after the largest. Managed mode replaces it with
 * leases on the budgeted TensorPool (nn/memory/tensor-pool.ts) behind the same calls.
 */
export class NamedBuffers {
  readonly #i32 = new Map<string, Int32Array>();
  readonly #f32 = new Map<string, Float32Array>();
  readonly #u8 = new Map<string, Uint8Array>();

  /** An Int32Array view of length n for `name`, reused across calls (contents undefined). */
  int32(name: string, n: number): Int32Array {
    return take(this.#i32, name, n, Int32Array);
  }

  /** A Float32Array view of length n for `name`, reused across calls (contents undefined). */
  float32(name: string, n: number): Float32Array {
    return take(this.#f32, name, n, Float32Array);
  }

  /** A Uint8Array view of length n for `name`, reused across calls (contents undefined). */
  uint8(name: string, n: number): Uint8Array {
    return take(this.#u8, name, n, Uint8Array);
  }

  /** Bytes currently held. */
  bytes(): number {
    let s = 0;
    for (const m of [this.#i32, this.#f32, this.#u8]) for (const b of m.values()) s += b.byteLength;
    return s;
  }

  clear(): void {
    this.#i32.clear();
    this.#f32.clear();
    this.#u8.clear();
  }
}

type View = Int32Array | Float32Array | Uint8Array;

function take<T extends View>(slots: Map<string, T>, name: string, n: number, make: new (n: number) => T): T {
  let b = slots.get(name);
  if (!b || b.length < n) {
    b = new make(n);
    slots.set(name, b);
  }
  return b.length === n ? b : (b.subarray(0, n) as T);
}
