/**
 * Where the third part of a reconstruction comes from (DESIGN §2 "Modes", §3 step 6).
 * With C0', C1' from workers 0 and 1, the enclave needs a part T and a set of
 * output-mask streams M such that
 *
 *   C0' + C1' + T + Σ_{m ∈ M} mask_m = f(AQ, BQ)   (mod P),
 *
 * given C0' + C1' = f(AQ, BQ) − f(U, V) − CM0 − CM1 (worker-compute.ts). Two sources:
 *
 *   online   T = Z' = f(U, V) − CMZ from worker 2,      M = {CM0, CM1, CMZ}
 *   offline  T = Z̃ = f(U, V) + CM0 + CM1 computed by the enclave itself (it holds the
 *            U, V, CM0, CM1 keys) ahead of time and sealed to untrusted storage,
 *            M = {}  (offline-masks.ts). Z never leaves the enclave, so no CMZ.
 *
 * The secure executor injects one MaskSource and is otherwise the same in both modes.
 */
import { MsgType } from '../net/message-types.js';
import type { Connection, ReceivedMessage } from '../net/transport.js';
import type { TensorPool } from '../nn/memory/tensor-pool.js';
import { ProtocolError, checkShareTensor, opHeader, sayBye } from './messages.js';
import type { AttemptCounter, MaskKeyName } from './op-streams.js';
import type { OpAttempt } from './worker-compute.js';

/** A received or loaded tensor, valid until release(). */
export interface Part {
  readonly data: Int32Array;
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
  /** The third part T of this attempt (n elements). */
  take(at: OpAttempt, opId: number, n: number): Promise<Part>;
  /** After every training step (offline: may run an offline phase for the coming steps). */
  endStep?(attempts: AttemptCounter): Promise<void>;
  stats(): MaskSourceStats;
  /** Says goodbye to what it talks to (if it feeds it) and closes it. */
  close(): Promise<void>;
  /** Managed memory: lease its own per-op buffers from `pool` (null: private ones). Received frames are the executor's concern. */
  attachMemory?(pool: TensorPool | null): void;
  /** Bytes of its own per-op buffers outside an attached pool. */
  memoryBytes?(): number;
}

/**
 * Receives worker `who`'s Result frame for op `opId` and validates it (length, and
 * centred values unless `centred` is null: the caller then checks them in its own pass).
 * A dead worker or a malformed result rejects with a ProtocolError naming the worker;
 * a malformed result also closes that connection.
 */
export async function receiveResult(
  conn: Connection,
  who: string,
  opId: number,
  n: number,
  timeoutMs?: number,
  centred?: ((v: Int32Array) => boolean) | null,
): Promise<Part> {
  let msg: ReceivedMessage;
  try {
    msg = await conn.expect(MsgType.Result, { opId, timeoutMs });
  } catch (err) {
    throw new ProtocolError(`${who} (${conn.peer}) failed during op ${opId}: ${(err as Error).message}`);
  }
  try {
    const data = checkShareTensor(msg.dtype === 'json' ? null : msg.data, n, `result of ${who}`, centred);
    return { data, release: () => msg.release() };
  } catch (err) {
    msg.release();
    conn.destroy(err as Error);
    throw err;
  }
}

/** Online mode: worker 2 computes Z' = f(U, V) − CMZ from its seeds; the enclave adds CM0 + CM1 + CMZ. */
export class OnlineMaskSource implements MaskSource {
  readonly mode = 'online' as const;
  readonly outputMasks: readonly MaskKeyName[] = ['CM0', 'CM1', 'CMZ'];
  #served = 0;

  /** `feeds`: whether this enclave sends worker 2 its requests (replica 1 only listens); `centred`: the result check. */
  constructor(
    readonly conn: Connection,
    readonly feeds: boolean,
    readonly timeoutMs?: number,
    readonly centred?: (v: Int32Array) => boolean,
  ) {}

  async request(at: OpAttempt, opId: number, label: string): Promise<void> {
    if (this.feeds) await this.conn.send({ type: MsgType.OpRequest, opId, label, dtype: 'json', value: opHeader(at) });
  }

  async take(_at: OpAttempt, opId: number, n: number): Promise<Part> {
    const part = await receiveResult(this.conn, 'worker 2', opId, n, this.timeoutMs, this.centred);
    this.#served++;
    return part;
  }

  stats(): MaskSourceStats {
    return { mode: 'online', served: this.#served, onDemand: 0, offlineMs: 0, offlineCpuMs: 0, precomputed: 0, stored: 0, onDemandMs: 0 };
  }

  async close(): Promise<void> {
    if (this.feeds) await sayBye(this.conn);
    await this.conn.close().catch(() => {});
  }
}
