/**
 * The `plain` execution mode: every bilinear product C = f(A, B) in float32 on
 * a Backend (the native addon's sgemm where it is built). Timed, this is the
 * pure-enclave baseline the secure protocol's speed-up is measured against.
 */
import type { Backend } from '../backend/backend.js';
import { applyBilinearF32, type BilinearOp } from '../backend/bilinear.js';
import { NamedBuffers } from '../backend/named-buffers.js';
import { accumulationTarget } from './accumulation.js';
import { type ExecutorCheckpoint, type ExecutorStats, type LinearExecutor, type OpTag, type RunOptions, cannotRestore } from './executor.js';
import type { TensorPool } from './memory/tensor-pool.js';

export class PlainExecutor implements LinearExecutor {
  readonly mode = 'plain' as const;
  private ops = 0;
  readonly #pool = new NamedBuffers();
  /** Managed memory: the budgeted pool an accumulation's scratch is leased from (null: #pool). */
  #mem: TensorPool | null = null;

  constructor(readonly backend: Backend) {}

  /** c = f(a, b) (or c += f(a, b)) in float32 (see backend/bilinear.ts for the op table); synchronous. */
  run(op: BilinearOp, _tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, opts: RunOptions = {}): void {
    const mem = this.#mem;
    let lease: Float32Array | null = null;
    const t = accumulationTarget(c, opts.accumulate, (n) => (mem ? (lease = mem.f32(n)) : this.#pool.float32('acc', n)));
    try {
      applyBilinearF32(this.backend, op, a, b, t.out);
      t.finish();
    } finally {
      if (lease) mem!.release(lease);
    }
    this.ops++;
  }

  /** Bytes of its private scratch (counted as fixed enclave memory; 0 in managed mode). */
  memoryBytes(): number {
    return this.#pool.bytes();
  }

  /** Managed memory: an accumulation's scratch becomes a lease on `pool` (null: a private buffer). */
  attachMemory(pool: TensorPool | null): void {
    this.#mem = pool;
    this.#pool.clear();
  }

  /** No per-step work. */
  async endStep(): Promise<void> {}

  /** Nothing to release: in-process. */
  async close(): Promise<void> {}

  /** Nothing to carry: float32 products draw no streams. */
  checkpointState(): undefined {
    return undefined;
  }

  restoreCheckpointState(_s: ExecutorCheckpoint): void {
    throw cannotRestore(this.mode);
  }

  /** In-process: no workers. */
  readonly connections = [];

  workers(): Readonly<Record<string, never>> {
    return {};
  }

  /** Plain float32 products never wrap, so `overflows` stays 0. */
  stats(): ExecutorStats {
    return { ops: this.ops, overflows: 0 };
  }
}
