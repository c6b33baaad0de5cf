/**
 * A pool of receive buffers, so that large payloads land in memory that has
 * already been touched (first touch of fresh pages costs ~11 µs per 4 KiB on
 * these VMs: a fresh 64 MB buffer is ~190 ms, a warm one ~2 ms).
 *
 * Buffers are whole ArrayBuffers (V8 aligns their backing store to ≥ 8 bytes, and
 * views start at offset 0), in power-of-two size classes from 4 KiB up. A
 * buffer is leased with `acquire(bytes)` and handed back with the lease's
 * `release()`; leases that are never released are simply garbage-collected.
 * The pool keeps at most `maxRetainedBytes` of idle buffers and at most
 * `maxPerClass` idle buffers per size class.
 */

const MIN_CLASS_BITS = 12; // 4 KiB

export interface PoolLease {
  /** Backing store; its byteLength is the size class (≥ requested bytes). */
  readonly buffer: ArrayBuffer;
  /** Return the buffer to the pool. Idempotent. Never use the buffer afterwards. */
  release(): void;
}

export interface PoolStats {
  /** Buffers handed out that were newly allocated. */
  allocations: number;
  /** Buffers handed out that were reused. */
  reuses: number;
  /** Idle bytes held now. */
  retainedBytes: number;
}

/**
 * Anything that lends receive buffers. BufferPool below; on the enclave side in managed memory mode, an
 * adapter over the budgeted TensorPool (src/protocol/managed-buffers.ts), installed per connection with
 * `Connection.setTensorPool`.
 */
export interface ReceivePool {
  acquire(bytes: number): PoolLease;
}

export class BufferPool implements ReceivePool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private retained = 0;
  private allocations = 0;
  private reuses = 0;

  constructor(
    readonly maxRetainedBytes = 768 * 1024 * 1024,
    readonly maxPerClass = 8,
  ) {}

  /** Size class (a power of two ≥ 4 KiB) for a request. */
  static classOf(bytes: number): number {
    let bits = MIN_CLASS_BITS;
    while (2 ** bits < bytes) bits++;
    return 2 ** bits;
  }

  acquire(bytes: number): PoolLease {
    const size = BufferPool.classOf(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.retained -= size;
      this.reuses++;
    } else {
      buffer = new ArrayBuffer(size);
      this.allocations++;
    }
    const buf = buffer;
    let released = false;
    return {
      buffer: buf,
      release: () => {
        if (released) return;
        released = true;
        this.give(buf);
      },
    };
  }

  private give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (this.retained + size > this.maxRetainedBytes) return;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    if (list.length >= this.maxPerClass) return;
    list.push(buffer);
    this.retained += size;
  }

  stats(): PoolStats {
    return { allocations: this.allocations, reuses: this.reuses, retainedBytes: this.retained };
  }

  /** Drop all idle buffers. */
  clear(): void {
    this.free.clear();
    this.retained = 0;
  }
}

/** The process-wide pool every connection uses unless given another. */
export const defaultPool = new BufferPool();
