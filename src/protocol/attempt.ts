/**
 * What one op attempt of a secure protocol works with (the executor owns it; the protocols,
 * goten-attempt.ts and lean-attempt.ts, run one attempt each):
 *
 *   prepare   quantize, mask and (lean) pack the fresh operands into the attempt's buffers
 *   send      the requests and operands; `SendTracker.track` owns the buffers' lifetime from then
 *   receive   the parts, then reconstruct + dequantize + guard in one fused sweep
 */
import type { Hash } from 'node:crypto';
import type { Connection } from '../net/transport.js';
import type { EnclaveKernels } from './enclave-kernels.js';
import type { Feeds } from './feeds.js';
import type { AttemptBuffers, Int32Buffers, LeaseSet } from './managed-buffers.js';
import type { LeanReports } from './lean-culprit.js';
import type { MaskSource } from './mask-source.js';
import type { OpAttempt } from './op-attempt.js';
import type { MaskKeys } from './op-streams.js';
import type { OperandUse } from './operands.js';

/** The executor's fixed environment. */
export interface AttemptEnv {
  /** Connections to workers 0, 1 and, online, 2. */
  readonly workers: readonly Connection[];
  readonly feeds: Feeds;
  readonly keys: MaskKeys;
  readonly noiseKey: Uint8Array;
  readonly kernels: EnclaveKernels;
  readonly masks: MaskSource;
  readonly timeoutMs?: number;
}

/** One attempt. */
export interface AttemptState {
  readonly at: OpAttempt;
  readonly uses: readonly [OperandUse, OperandUse];
  /** Frame op id (the same in both replicas) and traffic label. */
  readonly opId: number;
  readonly label: string;
  readonly bufs: AttemptBuffers;
  /** Replicated topology: the running digest of this step's quantized operands. */
  readonly digest: Hash | null;
  readonly sends: SendTracker;
  /** A side planned with a guessed exponent (operands.ts speculation): its real use, given max|x|. */
  readonly confirm: (use: OperandUse, maxAbs: number) => OperandUse;
  /** Verification of this attempt's result (verify-attempt.ts), or null (--verify off, or sampled out). */
  readonly verify: AttemptCheck | null;
}

/**
 * An attempt's result check: the attempt writes AQ, BQ into `q` for the sides it quantizes anyway (the
 * check quantizes the others again: same values), then calls `check` with the reconstructed result
 * before it is returned (goten: with the received parts, which name the culprit). Throws
 * VerificationError when the result is wrong.
 */
export interface AttemptCheck {
  readonly q: [Int32Array | null, Int32Array | null];
  /**
   * Where the check's buffers (and the attempt's AQ, BQ for it) come from: unlike the attempt's `bufs`,
   * which go back once the sends are out, these stay valid until the attempt ends.
   */
  readonly bufs: Int32Buffers;
  check(c: Float32Array, uses: readonly [OperandUse, OperandUse], evidence: CulpritEvidence): Promise<void>;
}

/**
 * What names the culprit when a check fails: goten, the parts as received; lean, a request for every
 * worker's own part (lean-culprit.ts), made only after a failure.
 */
export type CulpritEvidence = { readonly goten: readonly Int32Array[] } | { readonly lean: () => Promise<LeanReports> };

/** A protocol's attempt: returns max |C| of the reconstructed result (written to c). */
export type AttemptFn = (env: AttemptEnv, x: AttemptState, a: Float32Array, b: Float32Array, c: Float32Array) => Promise<number>;

/**
 * The lifetime of an attempt's operand buffers. Sends do not copy their payload, so a buffer may be
 * reused only once every send reading it has completed: `track` hands them back (managed memory) as
 * soon as all sends are out, while the workers compute; `end` after a failure with sends still out
 * forgets them instead (never reused, TensorPool.forget), or, unmanaged, `dropPrivate` is called so the
 * executor's private pool lets go of them.
 */
export class SendTracker {
  #sending = false;

  constructor(
    private readonly leases: LeaseSet | null,
    private readonly dropPrivate: () => void,
  ) {}

  /** All of the attempt's sends are issued. */
  track(sends: Promise<void>[]): Promise<void> {
    this.#sending = true;
    const all = Promise.all(sends).then(() => undefined);
    all.then(
      () => {
        this.#sending = false;
        this.leases?.release();
      },
      () => {},
    );
    return all;
  }

  /** The attempt failed: buffers a send may still read must never be reused. */
  failed(): void {
    if (!this.#sending) return;
    if (this.leases) this.leases.forget();
    else this.dropPrivate();
  }

  /** The attempt is over (after `failed` on failure). */
  end(): void {
    this.leases?.release();
  }
}
