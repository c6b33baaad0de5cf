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
import type { Connection } from '../net/transport.js';

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
  /**
   * What a checkpoint must carry for a resumed run to continue bit-identically (the quantizing executors'
   * per-op attempt counters, which name the rounding-noise and mask streams), or undefined when nothing.
   */
  checkpointState(): ExecutorCheckpoint | undefined;
  /** Takes a checkpoint's executor state back; throws when this executor cannot (saved in another mode). */
  restoreCheckpointState(s: ExecutorCheckpoint): void;
  /** Connections to the untrusted workers (secure mode; none in-process): traffic counters, control requests. */
  readonly connections: readonly Connection[];
  /** Each worker's state by party name (w0, w1, w2); empty for in-process executors. */
  workers(): Readonly<Record<string, WorkerState>>;
}

/** An executor's part of a checkpoint: the attempt counters, per op (protocol/op-streams.ts). */
export interface ExecutorCheckpoint {
  readonly attempts: Record<string, number>;
}

/** A checkpoint's executor state that a `mode` executor cannot take. */
export function cannotRestore(mode: string): Error {
  return new Error(`checkpoint holds executor state this '${mode}' executor cannot take (was it saved in another mode?)`);
}

/** The state check shared by the executors that keep attempt counters. */
export function checkpointAttempts(mode: string, s: unknown): Record<string, number> {
  const attempts = typeof s === 'object' && s !== null ? (s as { attempts?: unknown }).attempts : undefined;
  if (typeof attempts !== 'object' || attempts === null) throw cannotRestore(mode);
  return attempts as Record<string, number>;
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
  checkpointState(): ExecutorCheckpoint | undefined {
    return this.inner.checkpointState();
  }
  restoreCheckpointState(s: ExecutorCheckpoint): void {
    this.inner.restoreCheckpointState(s);
  }
  get connections(): readonly Connection[] {
    return this.inner.connections;
  }
  workers(): Readonly<Record<string, WorkerState>> {
    return this.inner.workers();
  }
}
