/**
 * The executors' per-op buffers in managed memory mode (docs/memory.md): instead of named buffers kept
 * forever (named-buffers.ts), every operand, share and received result is a lease on the enclave's budgeted
 * TensorPool (src/nn/memory/tensor-pool.ts), so it is counted in the budget, reused across ops and layers,
 * and evicted when the budget is tight.
 */
import type { PoolLease, ReceivePool } from '../net/pool.js';
import type { TensorPool } from '../nn/memory/tensor-pool.js';

/** Int32 buffers by role (`e.ae`, `u`, …): a NamedBuffers (unmanaged, reused by name) or a LeaseSet. */
export interface Int32Buffers {
  int32(name: string, n: number): Int32Array;
}

/** Int32, byte and float buffers by role (the lean protocol's packed operands are bytes; accumulation scratch floats). */
export interface AttemptBuffers extends Int32Buffers {
  uint8(name: string, n: number): Uint8Array;
  float32(name: string, n: number): Float32Array;
}

/**
 * The leases of one op attempt: every `int32` call is a fresh lease (names only matter to a NamedBuffers),
 * ended together by `release` (back for reuse) or `forget` (never reused: a send may still read them).
 */
export class LeaseSet implements AttemptBuffers {
  readonly #held: ArrayBufferView[] = [];

  constructor(readonly pool: TensorPool) {}

  int32(_name: string, n: number): Int32Array {
    const v = this.pool.i32(n);
    this.#held.push(v);
    return v;
  }

  uint8(_name: string, n: number): Uint8Array {
    const v = this.pool.bytes(n);
    this.#held.push(v);
    return v;
  }

  float32(_name: string, n: number): Float32Array {
    const v = this.pool.f32(n);
    this.#held.push(v);
    return v;
  }

  /** Returns every buffer for reuse. Idempotent. */
  release(): void {
    for (const v of this.#held.splice(0)) this.pool.release(v);
  }

  /** Ends every lease without reuse (TensorPool.forget). Idempotent. */
  forget(): void {
    for (const v of this.#held.splice(0)) this.pool.forget(v);
  }
}

/**
 * A network receive pool over a TensorPool: each received tensor frame is a lease charged to the budget.
 * The lease's release is idempotent, because a second release of a buffer the pool has meanwhile lent
 * again would drop the new holder's reference.
 */
export function receiveLeases(pool: TensorPool): ReceivePool {
  return {
    acquire(bytes: number): PoolLease {
      const view = pool.bytes(bytes);
      return { buffer: view.buffer as ArrayBuffer, release: releaseOnce(() => pool.release(view)) };
    },
  };
}

/** A part or result that is valid until its `release()`, which runs `done` exactly once. */
export function releaseOnce(done: () => void): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    done();
  };
}
