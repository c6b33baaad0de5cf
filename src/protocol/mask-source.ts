/**
 * Where the third part of a reconstruction comes from (docs/protocol.md, "Modes").
 * With C0' + C1' = f(AQ, BQ) − f(U, V) − CM0 − CM1 from workers 0 and 1 (worker-compute.ts,
 * lean-compute.ts), the enclave needs a part T (or none) and a set of output-mask streams M
 * such that the sum of everything is f(AQ, BQ) mod P. The sources, per protocol:
 *
 *   goten online   T = Z' = f(U, V) − CMZ from worker 2,      M = {CM0, CM1, CMZ}
 *   lean online    no part: worker 2 sends Z' = f(U, V) − T + CM0 + CM1 to worker 1, whose
 *                  aggregate S = C0' + C1' + Z' the enclave receives;   M = {T}
 *   offline        T = Z̃ = f(U, V) + CM0 + CM1 computed by the enclave itself (it holds every
 *                  key) ahead of time and sealed to untrusted storage, M = {} (offline-masks.ts;
 *                  U, V per op attempt in goten, per operand version in lean)
 *
 * The secure executor injects one MaskSource and is otherwise the same in both modes.
 */
import { MsgType } from '../net/message-types.js';
import type { Connection, ReceivedMessage } from '../net/transport.js';
import type { TensorPool } from '../nn/memory/tensor-pool.js';
import { leanHeader, type LeanAttempt } from './lean-op.js';
import { checkPackedTensor, checkShareTensor, opHeader, sayBye } from './messages.js';
import type { AttemptCounter, MaskKeyName } from './op-streams.js';
import type { OpAttempt } from './op-attempt.js';
import type { ProtocolName } from './variant.js';
import { lostResult } from './worker-lost.js';

/** A received or loaded tensor, valid until release(). */
export interface Part {
  readonly data: Int32Array;
  release(): void;
}

/** A received packed tensor (3 bytes per element, values not yet checked), valid until release(). */
export interface PackedPart {
  readonly data: Uint8Array;
  release(): void;
}

/** Counters of a mask source (benchmarks and training logs). */
export interface MaskSourceStats {
  readonly mode: 'online' | 'offline';
  /** Attempts whose third part came from the precomputed store (offline) or worker 2 (online). */
  readonly served: number;
  /** Offline: attempts computed on demand in the online phase (retries, other shapes, not yet precomputed). */
  readonly onDemand: number;
  /** Offline: time spent in offline phases (precomputing and sealing), ms. */
  readonly offlineMs: number;
  /** Offline: CPU time of those phases (this process), ms. */
  readonly offlineCpuMs: number;
  /** Offline: attempts precomputed so far; chunks still sealed in storage. */
  readonly precomputed: number;
  readonly stored: number;
  /** Offline: time spent computing on demand inside the online phase, ms. */
  readonly onDemandMs: number;
}

export interface MaskSource {
  readonly mode: 'online' | 'offline';
  /** Output-mask streams the enclave adds at reconstruction. */
  readonly outputMasks: readonly MaskKeyName[];
  /** The attempt's requests are going out (online: the op header to worker 2 if this enclave feeds it). */
  request(at: OpAttempt, opId: number, label: string): Promise<void>;
  /** The third part T of this attempt (n elements), or null when the enclave gets none (lean online). */
  take(at: OpAttempt, opId: number, n: number): Promise<Part | null>;
  /** After every training step (offline: may run an offline phase for the coming steps). */
  endStep?(attempts: AttemptCounter): Promise<void>;
  stats(): MaskSourceStats;
  /** Says goodbye to what it talks to (if it feeds it) and closes it. */
  close(): Promise<void>;
  /** The session was abandoned after a lost worker (recovery.ts): let go of it without a goodbye. */
  abandon?(): Promise<void>;
  /** Managed memory: lease its own per-op buffers from `pool` (null: private ones). Received frames are the executor's concern. */
  attachMemory?(pool: TensorPool | null): void;
  /** Bytes of its own per-op buffers outside an attached pool. */
  memoryBytes?(): number;
}

/**
 * Receives worker `who`'s Result frame for op `opId` and hands it to `check`, which returns its data or
 * throws. A dead worker or a malformed result rejects with a ProtocolError naming the worker; a malformed
 * result also closes that connection.
 */
async function receiveChecked<T>(
  conn: Connection,
  who: string,
  opId: number,
  timeoutMs: number | undefined,
  check: (msg: ReceivedMessage) => T,
): Promise<{ data: T; release(): void }> {
  let msg: ReceivedMessage;
  try {
    msg = await conn.expect(MsgType.Result, { opId, timeoutMs });
  } catch (err) {
    throw lostResult(conn, who, opId, err);
  }
  try {
    const data = check(msg);
    return { data, release: () => msg.release() };
  } catch (err) {
    msg.release();
    conn.destroy(err as Error);
    throw err;
  }
}

/** A result as Int32 field elements, validated for length and (unless `centred` is null: the caller checks them in its own pass) centred values. */
export function receiveResult(
  conn: Connection,
  who: string,
  opId: number,
  n: number,
  timeoutMs?: number,
  centred?: ((v: Int32Array) => boolean) | null,
): Promise<Part> {
  return receiveChecked(conn, who, opId, timeoutMs, (m) => checkShareTensor(m.dtype === 'json' ? null : m.data, n, `result of ${who}`, centred));
}

/**
 * A packed result (int24 frame of 3·n bytes); the values are checked by the caller's reconstruction
 * (enclave-kernels.ts, packed parts).
 */
export function receivePackedResult(conn: Connection, who: string, opId: number, n: number, timeoutMs?: number): Promise<PackedPart> {
  return receiveChecked(conn, who, opId, timeoutMs, (m) => checkPackedTensor(m.dtype === 'int24' ? m.data : null, n, `result of ${who}`));
}

/**
 * Online mode. goten: worker 2 computes Z' = f(U, V) − CMZ from its seeds and sends it here; the enclave
 * adds CM0 + CM1 + CMZ. lean: worker 2 sends its Z' to worker 1 (lean-compute.ts); the enclave adds T.
 */
export class OnlineMaskSource implements MaskSource {
  readonly mode = 'online' as const;
  readonly outputMasks: readonly MaskKeyName[];
  #served = 0;

  /** `feeds`: whether this enclave sends worker 2 its requests (replica 1 only listens); `centred`: the result check. */
  constructor(
    readonly conn: Connection,
    readonly feeds: boolean,
    readonly protocol: ProtocolName,
    readonly timeoutMs?: number,
    readonly centred?: (v: Int32Array) => boolean,
  ) {
    this.outputMasks = protocol === 'lean' ? ['T'] : ['CM0', 'CM1', 'CMZ'];
  }

  async request(at: OpAttempt, opId: number, label: string): Promise<void> {
    if (!this.feeds) return;
    const value = this.protocol === 'lean' ? leanHeader(at as LeanAttempt) : opHeader(at);
    await this.conn.send({ type: MsgType.OpRequest, opId, label, dtype: 'json', value });
  }

  async take(_at: OpAttempt, opId: number, n: number): Promise<Part | null> {
    this.#served++;
    if (this.protocol === 'lean') return null;
    return receiveResult(this.conn, 'worker 2', opId, n, this.timeoutMs, this.centred);
  }

  stats(): MaskSourceStats {
    return { mode: 'online', served: this.#served, onDemand: 0, offlineMs: 0, offlineCpuMs: 0, precomputed: 0, stored: 0, onDemandMs: 0 };
  }

  async close(): Promise<void> {
    if (this.feeds) await sayBye(this.conn);
    await this.conn.close().catch(() => {});
  }
}
