/**
 * The secure LinearExecutor: the enclave side of a secure protocol over untrusted workers
 * (docs/protocol.md). It owns what both protocols share — the op loop with the overflow
 * retries (overflow.ts), operand versions (operands.ts), attempt numbering, per-attempt
 * buffers, the replicas' digests and the connections — and runs each attempt with its
 * protocol (variant.ts):
 *
 *   lean   lean-attempt.ts: fresh operand versions masked and packed once, S = C − T from w1
 *   goten  goten-attempt.ts: the paper's per-op shares, C0', C1' and the third part
 *
 * The MaskSource (mask-source.ts) decides the third part and the output masks: online
 * (worker 2) or offline (two workers; the enclave precomputes Z̃, offline-masks.ts).
 *
 * Results are validated (length, centred) before use; a malformed result or a
 * dead worker rejects the op with a clear error naming the worker. With a Recovery (recovery.ts), a
 * lost worker instead re-opens the session and runs the same attempt again (bit-identical). With a verifier
 * (--verify all|sample), every checked result is verified in the enclave before it is
 * used (verify-attempt.ts); a wrong one rejects the op with a VerificationError.
 * Managed memory (attachMemory): operands, shares and received results are leases on the
 * enclave's budgeted pool, ended as soon as the attempt is done with them (attempt.ts).
 * Replicated topology: both replicas run this with different `feeds`, hash
 * (exponents, quantized operands) of every attempt, and compare the digests after every step.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Backend } from '../backend/backend.js';
import { type BilinearOp, type OperandReuse, bilinearSizes } from '../backend/bilinear.js';
import { MsgType } from '../net/message-types.js';
import type { Connection } from '../net/transport.js';
import { accumulationTarget } from '../nn/accumulation.js';
import { type ExecutorCheckpoint, type ExecutorStats, type LinearExecutor, type OpTag, type RunOptions, type WorkerState, checkpointAttempts } from '../nn/executor.js';
import type { TensorPool } from '../nn/memory/tensor-pool.js';
import { type AttemptEnv, type AttemptFn, SendTracker } from './attempt.js';
import { NamedBuffers } from '../backend/named-buffers.js';
import { type EnclaveKernels, enclaveKernels } from './enclave-kernels.js';
import type { Feeds } from './feeds.js';
import { gotenAttempt } from './goten-attempt.js';
import { leanAttempt } from './lean-attempt.js';
import { localAttempt, opSize } from './local-attempt.js';
import { operandRef } from './lean-op.js';
import { LeaseSet, receiveLeases } from './managed-buffers.js';
import { type MaskSource, type MaskSourceStats, OnlineMaskSource } from './mask-source.js';
import { opLabel, sayBye } from './messages.js';
import type { OpAttempt } from './op-attempt.js';
import { AttemptCounter, type MaskKeys } from './op-streams.js';
import { NO_REUSE, OperandTracker, type OperandUse } from './operands.js';
import { withOverflowRetry } from './overflow.js';
import { checkLengths } from './quantized-executor.js';
import { GUARD } from './reconstruct.js';
import { DEFAULT_PROTOCOL, type ProtocolName } from './variant.js';
import { DEFAULT_RECOVERIES_PER_OP, type Recovery, type SessionParts, isConnectionLoss } from './recovery.js';
import { type ProductVerifier, VerificationError, type VerifyStats } from './product-verifier.js';
import { type CheckContext, attemptCheck } from './verify-attempt.js';
import { UndoLog, type UndoMark } from './undo-log.js';

export interface SecureExecutorOptions {
  /** Which protocol the workers were set up for (default lean). */
  readonly protocol?: ProtocolName;
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
  /** Verified products (product-verifier.ts); absent: --verify off, the protocol exactly as without it. */
  readonly verifier?: ProductVerifier;
  /** Re-opens the session after a lost worker (recovery.ts); absent: a lost worker ends the op with its error. */
  readonly recovery?: Recovery;
  /**
   * Ops whose size √(a·b·c) is below this are computed in the enclave, exactly, instead of outsourced
   * (local-attempt.ts; needs `backend`). 0 or absent: every op is outsourced.
   */
  readonly localBelow?: number;
  /** The enclave's backend, for local ops. */
  readonly backend?: Backend;
}

/** The counters before an attempt: a retry after a new session starts from them again (recovery.ts). */
interface BeforeAttempt {
  /** Attempt counters and operand versions (undo-log.ts). */
  readonly mark: UndoMark;
  readonly seq: number;
}

export class ReplicaDivergenceError extends Error {
  override name = 'ReplicaDivergenceError';
}

const ATTEMPTS: Readonly<Record<ProtocolName, AttemptFn>> = { lean: leanAttempt, goten: gotenAttempt };

export class SecureExecutor implements LinearExecutor {
  readonly mode = 'secure' as const;
  readonly protocol: ProtocolName;
  /** One log for the attempt counters and the operand versions: a mark before each attempt (recovery). */
  readonly #undo = new UndoLog();
  readonly attempts = new AttemptCounter(this.#undo);
  readonly #operands = new OperandTracker(this.attempts, this.#undo);
  readonly #o: SecureExecutorOptions;
  readonly #kernels: EnclaveKernels;
  readonly #attemptFn: AttemptFn;
  /** The current session's connections and keys, and what depends on them (replaced by #recover). */
  #parts!: SessionParts;
  #masks!: MaskSource;
  #env!: AttemptEnv;
  #check!: CheckContext | null;
  /** A new session is being opened (workers() says so). */
  #recovering = false;
  readonly #pool = new NamedBuffers();
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
    this.protocol = o.protocol ?? DEFAULT_PROTOCOL;
    this.#digest = o.replica ? createHash('sha256') : null;
    this.#kernels = o.kernels ?? enclaveKernels('auto');
    if ((o.localBelow ?? 0) > 0 && !o.backend) throw new TypeError('SecureExecutor: localBelow needs the enclave backend');
    this.#attemptFn = ATTEMPTS[this.protocol];
    this.#install({ workers: o.workers, keys: o.keys, maskSource: o.maskSource });
  }

  /** Puts a session's connections and keys in place (the constructor's, or a re-opened one's). */
  #install(parts: SessionParts): void {
    const o = this.#o;
    const w2 = parts.workers[2];
    if (!parts.maskSource && !w2) throw new Error('online mode needs a connection to worker 2 (or pass an offline mask source)');
    this.#parts = parts;
    this.#masks = parts.maskSource ?? new OnlineMaskSource(w2!, o.feeds.w2, this.protocol, o.timeoutMs, this.#kernels.isCentred);
    const keys = parts.keys;
    this.#env = { workers: parts.workers, feeds: o.feeds, keys, noiseKey: o.noiseKey, kernels: this.#kernels, masks: this.#masks, timeoutMs: o.timeoutMs };
    this.#check = o.verifier
      ? { verifier: o.verifier, kernels: this.#kernels, keys, noiseKey: o.noiseKey, protocol: this.protocol, online: this.#masks.mode === 'online' }
      : null;
  }

  async run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array, opts: RunOptions = {}): Promise<void> {
    const sz = bilinearSizes(op);
    checkLengths(op, sz, a, b, c);
    const reuse = opts.reuse ?? NO_REUSE;
    this.#stats.ops++;
    const mem = this.#mem;
    let lease: Float32Array | null = null;
    const target = accumulationTarget(c, opts.accumulate, (n) => (mem ? (lease = mem.f32(n)) : this.#pool.float32('acc', n)));
    try {
      await this.#retrying(op, tag, reuse, a, b, target.out);
      target.finish();
    } finally {
      if (lease) mem!.release(lease);
    }
  }

  /** Ops smaller than this many multiply-adds are computed in the enclave (0: none). */
  get localBelow(): number {
    return this.#o.localBelow ?? 0;
  }

  /** Whether this op is computed in the enclave (local-attempt.ts) rather than outsourced. */
  isLocal(op: BilinearOp): boolean {
    return this.localBelow > 0 && opSize(op) < this.localBelow;
  }

  /** The op's attempts: a flagged result is re-run with more headroom (overflow.ts, as the quantized reference). */
  async #retrying(op: BilinearOp, tag: OpTag, reuse: OperandReuse, a: Float32Array, b: Float32Array, c: Float32Array): Promise<void> {
    if (this.isLocal(op)) return this.#local(op, tag, reuse, a, b, c);
    let recovered = 0;
    await withOverflowRetry(
      async (headroom) => {
        for (;;) {
          const before = this.#o.recovery ? this.#before() : null;
          const attempt = this.attempts.take(tag.index, op.pass);
          // lean: one sweep quantizes a new version and scans it, with the last version's exponent as a guess
          const uses = this.#operands.plan(tag.index, op.pass, reuse, headroom, a, b, this.#kernels.exponent, this.protocol === 'lean');
          const at: OpAttempt = { op, layer: tag.index, attempt, ...(this.protocol === 'lean' ? { operands: [operandRef(uses[0]), operandRef(uses[1])] } : {}) };
          let maxAbs: number;
          try {
            maxAbs = await this.#attempt(at, tag.layer, uses, a, b, c);
          } catch (err) {
            const rec = this.#o.recovery;
            if (!before || !rec) throw err;
            const where = `${tag.layer}, ${op.pass}`;
            // a result proven wrong by exactly one worker: a spare takes its role (recovery.ts); the step is
            // applied only once the re-run passes (spares are finite, so this ends)
            const wrong = err instanceof VerificationError && err.parties.length === 1 ? err : null;
            const replace = wrong && rec.canReplace?.() ? rec.replace : undefined;
            if (!replace && !isConnectionLoss(err)) throw err;
            // a run that cannot recover at all says so before anything is torn down
            const refused = rec.refuse?.(err as Error, replace !== undefined);
            if (refused) throw refused;
            if (wrong && replace) {
              await this.#recover(wrong, before, () => replace(wrong, wrong.parties[0], where));
              continue;
            }
            const most = rec.maxPerOp ?? DEFAULT_RECOVERIES_PER_OP;
            if (recovered++ >= most) throw new Error(`${(err as Error).message} (after ${most} new sessions for this op: giving up)`);
            await this.#recover(err as Error, before, () => rec.reopen(err as Error, where));
            continue; // the same attempt again, with the same headroom
          }
          // Diverged replicas reconstruct garbage, which lands in the guard band: both
          // replicas see the same flagged result, so they can compare digests right away
          // and report the real cause instead of retrying.
          if (maxAbs >= GUARD && this.#digest) await this.#compareDigests();
          return maxAbs;
        }
      },
      this.#stats,
      tag.layer,
      op.pass,
    );
  }

  /** A local op's attempts: the same counters, operand versions and retries as an outsourced one. */
  #local(op: BilinearOp, tag: OpTag, reuse: OperandReuse, a: Float32Array, b: Float32Array, c: Float32Array): void {
    const leases = this.#mem ? new LeaseSet(this.#mem) : null;
    try {
      withOverflowRetry(
        (headroom) => {
          this.attempts.take(tag.index, op.pass);
          const uses = this.#operands.plan(tag.index, op.pass, reuse, headroom, a, b, this.#kernels.exponent);
          return localAttempt(this.#o.backend!, this.#kernels, this.#o.noiseKey, tag.index, op, uses, a, b, c, leases ?? this.#pool);
        },
        this.#stats,
        tag.layer,
        op.pass,
      );
    } finally {
      leases?.release();
    }
  }

  #before(): BeforeAttempt {
    return { mark: this.#undo.mark(), seq: this.#seq };
  }

  /**
   * A worker was lost during an attempt (or, with a spare, failed verification): abandons every
   * connection of the session (no goodbye, so long-running workers wait for the next session), opens a new one (fresh AKE, new master secret:
   * every mask key is new) and rewinds the counters to `before`, so that the attempt runs again with the
   * same numbers and operand versions — new masks, the same quantized values (recovery.ts).
   */
  async #recover(cause: Error, before: BeforeAttempt, reopen: () => Promise<SessionParts>): Promise<void> {
    const abandoned = new Error(`the enclave abandoned this session (${cause.name}); a new one follows`);
    for (const w of this.#parts.workers) w.destroy(abandoned);
    await this.#masks.abandon?.();
    this.#recovering = true;
    let parts: SessionParts;
    try {
      parts = await reopen();
    } finally {
      this.#recovering = false;
    }
    this.#undo.undo(before.mark);
    this.#operands.resendAll();
    this.#seq = before.seq;
    this.#install(parts);
    if (this.#mem) {
      const receive = receiveLeases(this.#mem);
      for (const w of parts.workers) w.setTensorPool?.(receive);
      this.#masks.attachMemory?.(this.#mem);
    }
  }

  /**
   * Each worker's state: reconnecting while a new session is being opened, else connected or lost (its
   * connection closed: a lost worker is noticed at the next op, which then recovers if it can).
   */
  workers(): Readonly<Record<string, WorkerState>> {
    const out: Record<string, WorkerState> = {};
    this.#parts.workers.forEach((c, i) => (out[`w${i}`] = this.#recovering ? 'reconnecting' : c.isClosed ? 'lost' : 'connected'));
    return out;
  }

  async #attempt(at: OpAttempt, layer: string, uses: [OperandUse, OperandUse], a: Float32Array, b: Float32Array, c: Float32Array): Promise<number> {
    const leases = this.#mem ? new LeaseSet(this.#mem) : null;
    const sends = new SendTracker(leases, () => this.#pool.clear());
    const confirm = (use: OperandUse, maxAbs: number) => this.#operands.confirm(at.layer, use, maxAbs);
    // the check's buffers outlive the sends (leases go back when the attempt ends)
    const checked = this.#check?.verifier.wants() ? this.#check : null;
    const checkLeases = checked && this.#mem ? new LeaseSet(this.#mem) : null;
    const verify = checked ? attemptCheck(checked, at, layer, a, b, checkLeases ?? this.#pool) : null;
    const state = { at, uses, opId: this.#seq++ >>> 0, label: opLabel(at), bufs: leases ?? this.#pool, digest: this.#digest, sends, confirm, verify };
    try {
      return await this.#attemptFn(this.#env, state, a, b, c);
    } catch (err) {
      sends.failed();
      // the workers may hold operand versions this attempt sent or meant to send: send every one again
      this.#operands.clear();
      throw err;
    } finally {
      sends.end();
      checkLeases?.release();
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

  /** The attempt counters: a resumed run draws the same noise and mask streams. */
  checkpointState(): ExecutorCheckpoint {
    return { attempts: this.attempts.getState() };
  }

  restoreCheckpointState(s: ExecutorCheckpoint): void {
    this.attempts.setState(checkpointAttempts(this.mode, s));
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
    for (const w of this.#parts.workers) w.setTensorPool?.(receive);
    this.#masks.attachMemory?.(pool);
  }

  /** Verification counters and time (null with --verify off). */
  verifyStats(): VerifyStats | null {
    return this.#o.verifier?.stats() ?? null;
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
    return this.#parts.workers;
  }

  /** Which enclave kernels run the per-element work ('native' or 'js'). */
  get kernels(): string {
    return this.#kernels.name;
  }

  /** Says goodbye to the workers this enclave feeds and closes every connection. */
  async close(): Promise<void> {
    const { feeds } = this.#o;
    const { workers } = this.#parts;
    const fed = [feeds.w0, feeds.w1];
    const w01 = [workers[0], workers[1]];
    await Promise.all(w01.map((w, i) => (fed[i] ? sayBye(w) : null)));
    await Promise.allSettled([...w01.map((w) => w.close()), this.#masks.close(), this.#o.replica?.close()]);
  }
}
