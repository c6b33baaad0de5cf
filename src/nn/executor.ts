/**
 * How a linear layer's bilinear products are computed. The layers never call a
 * backend for conv/linear products directly; they hand each product to the
 * model's LinearExecutor, so that one model runs in every mode:
 *
 *   plain      float32 on a Backend (the pure-enclave baseline)
 *   quantized  SWALP-quantized operands, exact products mod P (the oracle)
 *   secure     the Goten protocol over three untrusted workers
 */
import type { BilinearOp } from '../backend/bilinear.js';
import type { OperandReuse } from '../backend/bilinear.js';

export type { OperandReuse } from '../backend/bilinear.js';

/** How one op is run, beyond its operands. */
export interface RunOptions {
  /**
   * Which operands are, unchanged, tensors this layer already handed over since its last forward
   * (bilinear.ts `OperandReuse`); quantizing executors then reuse their quantized form (and the secure
   * protocol their masked form already held by the workers). Absent: nothing is reused.
   */
  readonly reuse?: OperandReuse;
  /**
   * c += f(a, b) instead of c = f(a, b): a layer accumulating its weight gradient. Each element gets
   * fl32(c + fl32(f(a, b))), exactly what a separate product and `acc += d` give.
   */
  readonly accumulate?: boolean;
}
import type { TensorPool } from './memory/tensor-pool.js';

/** Identifies one linear op of one layer; the executor counts invocations per tag. */
export interface OpTag {
  /** Stable layer id within the model, e.g. `features.3` (used to derive per-op PRG streams). */
  readonly layer: string;
  /** Index of the layer among the model's linear layers (0-based, in forward order). */
  readonly index: number;
}

/** Counters every executor reports (training logs, --json, benchmarks). */
export interface ExecutorStats {
  /** Linear ops run. */
  ops: number;
  /** Ops whose plaintext product would have wrapped mod P (detected and recovered). */
  overflows: number;
}

/** A secure executor's view of one worker (GET /healthz): its connection is up, being re-opened, or gone. */
export type WorkerState = 'connected' | 'reconnecting' | 'lost';

export interface LinearExecutor {
  readonly mode: 'plain' | 'quantized' | 'secure';
  /** c = f(a, b) (or c += f(a, b), see RunOptions) for `op` (see backend/bilinear.ts), float32 in and out. */
  run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, opts?: RunOptions): void | Promise<void>;
  stats(): ExecutorStats;
  /**
   * Called by the trainer after every optimizer step. The replicated secure
   * topology exchanges its per-step digest of quantized tensors here and throws
   * if the two enclave replicas diverged; the offline mask source may precompute.
   * Executors without per-step work resolve at once.
   */
  endStep(): Promise<void>;
  /** Releases sockets/workers (nothing for the in-process executors). */
  close(): Promise<void>;
  /** Bytes of the executor's own per-op buffers outside any attached pool (enclave memory accounting). */
  memoryBytes(): number;
  /**
   * Managed memory mode (Model.attachMemory): take per-op buffers — operands, shares, received results —
   * as leases on `pool`, returned as soon as the op no longer needs them; null returns to private buffers.
   * Switch between steps, not inside one.
   */
  attachMemory(pool: TensorPool | null): void;
  /** Secure executors: each worker's state by party name (w0, w1, w2); absent for in-process executors. */
  workers?(): Readonly<Record<string, WorkerState>>;
}

/** An executor that hands everything to `inner`: instrumenting wrappers override `run` (and what else they watch). */
export class DelegatingExecutor implements LinearExecutor {
  constructor(readonly inner: LinearExecutor) {}
  get mode(): LinearExecutor['mode'] {
    return this.inner.mode;
  }
  run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, opts?: RunOptions): void | Promise<void> {
    return this.inner.run(op, tag, a, b, c, opts);
  }
  stats(): ExecutorStats {
    return this.inner.stats();
  }
  endStep(): Promise<void> {
    return this.inner.endStep();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  memoryBytes(): number {
    return this.inner.memoryBytes();
  }
  attachMemory(pool: TensorPool | null): void {
    this.inner.attachMemory(pool);
  }
  workers(): Readonly<Record<string, WorkerState>> {
    return this.inner.workers?.() ?? {};
  }
}
