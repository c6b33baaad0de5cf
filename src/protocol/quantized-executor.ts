/**
 * The quantized reference: the exact plaintext oracle of the secure protocol.
 * Per op attempt (docs/protocol.md, the steps of one op, without the sharing):
 *
 *   (A, eA), (B, eB) = the attempt's operand versions (operands.ts)
 *   AQ, BQ = quantizeOperand(A), quantizeOperand(B)   (op-quantize.ts; a reused version
 *                                                       is quantized again: same values)
 *   C   = f(AQ, BQ) mod P, exact, centred             (Backend.…ModP)
 *   out = C · 2^(eA + eB − 12), guarded               (reconstruct.ts)
 *
 * and on a flagged result a new attempt with HEADROOM_STEP more bits (overflow.ts).
 * Because it uses the same quantizer, noise streams, attempt counter,
 * reconstruction and guard as the protocol, a secure run with the same seed
 * must produce bit-identical layer outputs and gradients.
 * Managed memory (attachMemory): AQ, BQ and C are leases on the enclave's budgeted
 * pool for the duration of one op instead of buffers kept forever.
 */
import type { Backend } from '../backend/backend.js';
import { type BilinearOp, type OperandReuse, applyBilinearModP, bilinearSizes } from '../backend/bilinear.js';
import { tensorExponent } from '../field/quantize.js';
import { accumulationTarget } from '../nn/accumulation.js';
import { type ExecutorCheckpoint, type ExecutorStats, type LinearExecutor, type OpTag, type RunOptions, checkpointAttempts } from '../nn/executor.js';
import type { TensorPool } from '../nn/memory/tensor-pool.js';
import { NamedBuffers } from '../backend/named-buffers.js';
import { LeaseSet } from './managed-buffers.js';
import { noiseKeyFromSeed, quantizeOperand } from './op-quantize.js';
import { AttemptCounter } from './op-streams.js';
import { NO_REUSE, OperandTracker } from './operands.js';
import { withOverflowRetry } from './overflow.js';
import { reconstructDequantize } from './reconstruct.js';

export interface QuantizedExecutorOptions {
  readonly backend: Backend;
  /** Run seed: the rounding-noise key is derived from it (unless noiseKey is given). */
  readonly seed?: number | string;
  readonly noiseKey?: Uint8Array;
}

export class QuantizedExecutor implements LinearExecutor {
  readonly mode = 'quantized' as const;
  readonly attempts = new AttemptCounter();
  readonly #operands = new OperandTracker(this.attempts);
  readonly #backend: Backend;
  readonly #noiseKey: Uint8Array;
  readonly #pool = new NamedBuffers();
  /** Managed memory: the budgeted pool per-op buffers are leased from (null: #pool). */
  #mem: TensorPool | null = null;
  readonly #stats: ExecutorStats = { ops: 0, overflows: 0 };

  constructor(opts: QuantizedExecutorOptions) {
    this.#backend = opts.backend;
    this.#noiseKey = opts.noiseKey ?? noiseKeyFromSeed(opts.seed ?? 0);
  }

  run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, opts: RunOptions = {}): void {
    const sz = bilinearSizes(op);
    checkLengths(op, sz, a, b, c);
    const reuse = opts.reuse ?? NO_REUSE;
    const leases = this.#mem ? new LeaseSet(this.#mem) : null;
    const buf = leases ?? this.#pool;
    try {
      const target = accumulationTarget(c, opts.accumulate, (n) => buf.float32('acc', n));
      const aq = buf.int32('aq', sz.a);
      const bq = buf.int32('bq', sz.b);
      const cq = buf.int32('cq', sz.c);
      this.#stats.ops++;
      withOverflowRetry(
        (headroom) => {
          this.attempts.take(tag.index, op.pass); // the secure protocols' attempt numbers, kept in step
          const [ua, ub] = this.#operands.plan(tag.index, op.pass, reuse, headroom, a, b, tensorExponent);
          quantizeOperand(this.#noiseKey, tag.index, ua, a, aq);
          quantizeOperand(this.#noiseKey, tag.index, ub, b, bq);
          applyBilinearModP(this.#backend, op, aq, bq, cq);
          return reconstructDequantize([cq], ua.exp + ub.exp - 12, target.out).maxAbs;
        },
        this.#stats,
        tag.layer,
        op.pass,
      );
      target.finish();
    } finally {
      leases?.release(); // synchronous: nothing else holds them once the op returns
    }
  }

  /** No per-step work. */
  async endStep(): Promise<void> {}

  /** Nothing to release: in-process. */
  async close(): Promise<void> {}

  /** In-process: no workers. */
  readonly connections = [];

  workers(): Readonly<Record<string, never>> {
    return {};
  }

  stats(): ExecutorStats {
    return { ...this.#stats };
  }

  /** The attempt counters: a resumed run draws the same noise and mask streams. */
  checkpointState(): ExecutorCheckpoint {
    return { attempts: this.attempts.getState() };
  }

  restoreCheckpointState(s: ExecutorCheckpoint): void {
    this.attempts.setState(checkpointAttempts(this.mode, s));
  }

  /** Bytes of its private operand/result buffers (counted as fixed enclave memory by src/nn/memory; 0 in managed mode). */
  memoryBytes(): number {
    return this.#pool.bytes();
  }

  /** Managed memory: AQ, BQ, C become per-op leases on `pool` (null: private buffers). Between steps only. */
  attachMemory(pool: TensorPool | null): void {
    this.#mem = pool;
    this.#pool.clear(); // would otherwise stay resident beside the budget
  }
}

/** Validates operand/result lengths against the op's geometry (clear error instead of garbage). */
export function checkLengths(
  op: BilinearOp,
  sz: { a: number; b: number; c: number },
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c: ArrayLike<number>,
): void {
  if (a.length !== sz.a || b.length !== sz.b || c.length !== sz.c) {
    throw new RangeError(
      `${op.layer}/${op.pass}: operand sizes (${a.length}, ${b.length}) → ${c.length} do not match the geometry (${sz.a}, ${sz.b}) → ${sz.c}`,
    );
  }
}

/** Factory used by the CLI and the trainer. */
export function createQuantizedExecutor(opts: QuantizedExecutorOptions): LinearExecutor {
  return new QuantizedExecutor(opts);
}
