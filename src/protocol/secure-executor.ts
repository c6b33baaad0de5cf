/**
 * The secure LinearExecutor: the enclave side of the Goten protocol over
 * untrusted workers (DESIGN §3). Per op attempt:
 *
 *   1–3. prepareAttempt: quantize A, B; E = AQ − U, F = BQ − V; A1 = AQ − A0, B1 = BQ − B0
 *   4.   send   w0 ← header, E, F        w1 ← header, A1, B1, E, F
 *        (only the workers this enclave feeds; see enclave-op.ts), and the mask
 *        source's request (online: w2 ← header)
 *   5.   workers compute C0', C1'; the mask source yields the third part T
 *   6.   C = centre(C0' + C1' + T + Σ_{m ∈ M} CM_m) · 2^(eA + eB − 12), guarded, in one
 *        fused sweep that draws the output masks M; on a flagged result, a new
 *        attempt with more headroom (overflow.ts)
 *
 * The MaskSource (mask-source.ts) decides T and M: online, T = Z' from worker 2 and
 * M = {CM0, CM1, CMZ}; offline (two workers), T = Z̃ = f(U,V) + CM0 + CM1 precomputed
 * by the enclave and M = {} (offline-masks.ts).
 *
 * Results are validated (length, centred) before use; a malformed result or a
 * dead worker rejects the op with a clear error naming the worker.
 * Managed memory (attachMemory): operands, shares and received results are leases
 * on the enclave's budgeted pool, ended as soon as the attempt is done with them.
 * Replicated topology: both replicas run this with different `feeds`, hash
 * (eA, eB, AQ, BQ) of every attempt, and compare the digests after every step.
 */
import { createHash, type Hash } from 'node:crypto';
import { type BilinearOp, type OperandReuse, bilinearSizes } from '../backend/bilinear.js';
import { MsgType } from '../net/message-types.js';
import type { Connection } from '../net/transport.js';
import type { ExecutorStats, LinearExecutor, OpTag } from '../nn/executor.js';
import type { TensorPool } from '../nn/memory/tensor-pool.js';
import { BufferPool } from './buffer-pool.js';
import { type EnclaveKernels, NonCentredPartError, enclaveKernels } from './enclave-kernels.js';
import { type Feeds, maskStream, prepareAttempt } from './enclave-op.js';
import { LeaseSet, receiveLeases } from './managed-buffers.js';
import { type MaskSource, type MaskSourceStats, OnlineMaskSource, receiveResult } from './mask-source.js';
import { ProtocolError, opHeader, opLabel, sayBye } from './messages.js';
import { AttemptCounter, type MaskKeys } from './op-streams.js';
import { NO_REUSE, OperandTracker, type OperandUse } from './operands.js';
import { HEADROOM_STEP, MAX_RETRIES, OverflowError } from './overflow.js';
import { checkLengths } from './quantized-executor.js';
import { GUARD } from './reconstruct.js';
import type { OpAttempt } from './worker-compute.js';

export interface SecureExecutorOptions {
  /** Connections to workers 0, 1 and, online, 2 (already keyed and greeted). */
  readonly workers: readonly [Connection, Connection] | readonly [Connection, Connection, Connection];
  /** The third part's source (default: online, worker 2 over workers[2]). */
  readonly maskSource?: MaskSource;
  /** The enclave's fused kernels (default: native when available, else the TypeScript reference). */
  readonly kernels?: EnclaveKernels;
  readonly feeds: Feeds;
  readonly keys: MaskKeys;
  readonly noiseKey: Uint8Array;
  /** The other enclave replica (replicated topology only). */
  readonly replica?: Connection;
  /** Per-result timeout (a dead worker is reported instead of hanging). */
  readonly timeoutMs?: number;
}

export class ReplicaDivergenceError extends Error {
  override name = 'ReplicaDivergenceError';
}

export const FEEDS_SINGLE: Feeds = { w0: true, w1: true, w2: true };
export const FEEDS_REPLICA0: Feeds = { w0: true, w1: false, w2: true };
export const FEEDS_REPLICA1: Feeds = { w0: false, w1: true, w2: false };

export class SecureExecutor implements LinearExecutor {
  readonly mode = 'secure' as const;
  readonly attempts = new AttemptCounter();
  readonly #operands = new OperandTracker(this.attempts);
  readonly #o: SecureExecutorOptions;
  readonly #masks: MaskSource;
  readonly #kernels: EnclaveKernels;
  readonly #pool = new BufferPool();
  /** Managed memory: the budgeted pool per-attempt buffers are leased from (null: #pool). */
  #mem: TensorPool | null = null;
  readonly #stats: ExecutorStats = { ops: 0, overflows: 0 };
  /** Global attempt sequence number: the frames' opId (identical in both replicas). */
  #seq = 0;
  #step = 0;
  /** Digest exchanges so far (their frames' opId). */
  #exchanges = 0;
  #digest: Hash | null;

  constructor(o: SecureExecutorOptions) {
    this.#o = o;
    this.#digest = o.replica ? createHash('sha256') : null;
    this.#kernels = o.kernels ?? enclaveKernels('auto');
    const w2 = o.workers[2];
    if (!o.maskSource && !w2) throw new Error('online mode needs a connection to worker 2 (or pass an offline mask source)');
    this.#masks = o.maskSource ?? new OnlineMaskSource(w2!, o.feeds.w2, o.timeoutMs, this.#kernels.isCentred);
  }

  async run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, reuse: OperandReuse = NO_REUSE): Promise<void> {
    const sz = bilinearSizes(op);
    checkLengths(op, sz, a, b, c);
    this.#stats.ops++;
    for (let retry = 0; ; retry++) {
      const at: OpAttempt = { op, layer: tag.index, attempt: this.attempts.take(tag.index, op.pass) };
      const uses = this.#operands.plan(tag.index, op.pass, reuse, retry * HEADROOM_STEP, a, b, this.#kernels.exponent);
      const { maxAbs, flagged } = await this.#attempt(at, uses, a, b, c);
      if (!flagged) return;
      // Diverged replicas reconstruct garbage, which lands in the guard band: both
      // replicas see the same flagged result, so they can compare digests right away
      // and report the real cause instead of retrying.
      if (this.#digest) await this.#compareDigests();
      this.#stats.overflows++;
      if (retry === MAX_RETRIES) throw new OverflowError(tag.layer, op.pass, maxAbs);
    }
  }

  async #attempt(at: OpAttempt, [ua, ub]: [OperandUse, OperandUse], a: Float32Array, b: Float32Array, c: Float32Array) {
    const { feeds, keys, noiseKey, workers } = this.#o;
    const opId = this.#seq++ >>> 0;
    const label = opLabel(at);
    const leases = this.#mem ? new LeaseSet(this.#mem) : null;
    // managed: sends issued and not all complete, so a healthy worker's may still read the operand buffers
    let sending = false;
    try {
      const prep = prepareAttempt(feeds, keys, noiseKey, at, ua, ub, a, b, leases ?? this.#pool, this.#kernels, this.#digest !== null);
      if (this.#digest) {
        this.#digest.update(Int32Array.of(at.layer, at.attempt, ua.exp, ub.exp));
        this.#digest.update(prep.aq!).update(prep.bq!);
      }
      const header = { type: MsgType.OpRequest, opId, label, dtype: 'json' as const, value: opHeader(at) };
      const share = (data: Int32Array) => ({ type: MsgType.Shares, opId, label, dtype: 'int32' as const, data });
      sending = true;
      const sends: Promise<void>[] = [];
      if (feeds.w0) sends.push(workers[0].send(header), workers[0].send(share(prep.e)), workers[0].send(share(prep.f)));
      if (feeds.w1) {
        const w = workers[1];
        sends.push(w.send(header), w.send(share(prep.a1!)), w.send(share(prep.b1!)), w.send(share(prep.e)), w.send(share(prep.f)));
      }
      sends.push(this.#masks.request(at, opId, label));
      const n = bilinearSizes(at.op).c;
      const sent = Promise.all(sends);
      // once every send is out, the operands go back to the pool while the workers compute (the results
      // arriving next can reuse them); a failed send also fails its worker's result below, which is what we report
      sent.then(
        () => {
          sending = false;
          leases?.release();
        },
        () => {},
      );
      const parts = await Promise.allSettled([
        // values are checked inside the fused reconstruction below (parts 0 and 1)
        receiveResult(workers[0], 'worker 0', opId, n, this.#o.timeoutMs, null),
        receiveResult(workers[1], 'worker 1', opId, n, this.#o.timeoutMs, null),
        this.#masks.take(at, opId, n),
      ]);
      try {
        const bad = parts.find((p) => p.status === 'rejected');
        if (bad) {
          // sends to a healthy worker may still hold the pooled operand buffers:
          // never reuse them after a failed attempt (managed: forgotten below)
          if (!leases) this.#pool.clear();
          throw (bad as PromiseRejectedResult).reason;
        }
        await sent;
        const data = parts.map((p) => (p as PromiseFulfilledResult<{ data: Int32Array }>).value.data);
        // step 6, fused: draws the output masks M and reconstructs, dequantizes and guards in one sweep
        const masks = this.#masks.outputMasks.map((name) => maskStream(keys, name, at));
        let maxAbs: number;
        try {
          maxAbs = this.#kernels.reconstructDequantize(data, masks, ua.exp + ub.exp - 12, c, 2);
        } catch (err) {
          if (!(err instanceof NonCentredPartError)) throw err;
          const e = new ProtocolError(`result of worker ${err.part}: values outside the centred range of Z_P`);
          workers[err.part].destroy(e);
          throw e;
        }
        return { maxAbs, flagged: maxAbs >= GUARD };
      } finally {
        for (const p of parts) if (p.status === 'fulfilled') p.value.release();
      }
    } finally {
      if (sending) leases?.forget(); // failed with sends still out: TensorPool.forget, never reused
      else leases?.release();
    }
  }

  /**
   * After every training step: the mask source's hook (offline: may run an offline
   * phase for the coming steps), then, replicated, exchange and compare this step's
   * digest; throws on divergence.
   */
  async endStep(): Promise<void> {
    await this.#masks.endStep?.(this.attempts);
    if (!this.#digest) return;
    await this.#compareDigests();
    this.#digest = createHash('sha256');
    this.#step++;
  }

  /** Sends this replica's running digest of the step so far and checks the other's. */
  async #compareDigests(): Promise<void> {
    const replica = this.#o.replica!;
    const mine = this.#digest!.copy().digest('hex');
    const id = this.#exchanges++ >>> 0;
    const step = this.#step;
    await replica.send({ type: MsgType.Digest, opId: id, dtype: 'json', value: { step, digest: mine } });
    const msg = await replica.expect(MsgType.Digest, { opId: id, timeoutMs: this.#o.timeoutMs });
    // untrusted shape: a null or non-object body is a divergence, not a TypeError
    const body = msg.dtype === 'json' ? (msg.value as { digest?: unknown } | null) : null;
    const theirs = typeof body === 'object' && body !== null ? body.digest : undefined;
    if (theirs !== mine) {
      throw new ReplicaDivergenceError(
        `enclave replicas diverged at step ${step}: the quantized tensors or exponents differ (${String(theirs).slice(0, 16)}… vs ${mine.slice(0, 16)}…); stopping`,
      );
    }
  }

  stats(): ExecutorStats {
    return { ...this.#stats };
  }

  /**
   * Bytes of per-op buffers outside an attached pool: its own share/operand buffers and the mask source's
   * (counted as fixed enclave memory by src/nn/memory; 0 in managed mode).
   */
  memoryBytes(): number {
    return this.#pool.bytes() + (this.#masks.memoryBytes?.() ?? 0);
  }

  /**
   * Managed memory mode: operand/share buffers, the mask source's buffers and every worker connection's
   * received tensor frames become leases on `pool`; null returns to private buffers. Between steps only.
   */
  attachMemory(pool: TensorPool | null): void {
    this.#mem = pool;
    this.#pool.clear(); // unmanaged buffers would otherwise stay resident beside the budget
    const receive = pool ? receiveLeases(pool) : null;
    for (const w of this.#o.workers) w.setTensorPool?.(receive);
    this.#masks.attachMemory?.(pool);
  }

  /** The mask source's counters (online/offline, on-demand attempts, offline-phase time). */
  maskStats(): MaskSourceStats {
    return this.#masks.stats();
  }

  /** The injected mask source (benchmarks run offline phases through it). */
  get maskSource(): MaskSource {
    return this.#masks;
  }

  /** Connections to the workers this executor talks to (w0, w1 and, online, w2): counters, control requests. */
  get connections(): readonly Connection[] {
    return this.#o.workers;
  }

  /** Which enclave kernels run the per-element work ('native' or 'js'). */
  get kernels(): string {
    return this.#kernels.name;
  }

  /** Says goodbye to the workers this enclave feeds and closes every connection. */
  async close(): Promise<void> {
    const { workers, feeds } = this.#o;
    const fed = [feeds.w0, feeds.w1];
    const w01 = [workers[0], workers[1]];
    await Promise.all(w01.map((w, i) => (fed[i] ? sayBye(w) : null)));
    await Promise.allSettled([...w01.map((w) => w.close()), this.#masks.close(), this.#o.replica?.close()]);
  }
}
