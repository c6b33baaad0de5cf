/**
 * The secure LinearExecutor: the enclave side of the Goten protocol over three
 * untrusted workers (DESIGN §3). Per op attempt:
 *
 *   1–3. prepareAttempt: quantize A, B; E = AQ − U, F = BQ − V; A1 = AQ − A0, B1 = BQ − B0
 *   4.   send   w0 ← header, E, F        w1 ← header, A1, B1, E, F        w2 ← header
 *        (only the workers this enclave feeds; see enclave-op.ts)
 *   5.   (workers compute C0', C1', Z'; meanwhile M = CM0 + CM1 + CMZ here)
 *   6.   C = centre(C0' + C1' + Z' + M) · 2^(eA + eB − 12), guarded; on a flagged
 *        result, a new attempt with more headroom (overflow.ts)
 *
 * Results are validated (length, centred) before use; a malformed result or a
 * dead worker rejects the op with a clear error naming the worker.
 * Replicated topology: both replicas run this with different `feeds`, hash
 * (eA, eB, AQ, BQ) of every attempt, and compare the digests after every step.
 */
import { createHash, type Hash } from 'node:crypto';
import { type BilinearOp, bilinearSizes } from '../backend/bilinear.js';
import { MsgType } from '../net/message-types.js';
import type { Connection, ReceivedMessage } from '../net/transport.js';
import type { ExecutorStats, LinearExecutor, OpTag } from '../nn/executor.js';
import { BufferPool } from './buffer-pool.js';
import { type Feeds, outputMaskSum, prepareAttempt } from './enclave-op.js';
import { ProtocolError, checkShareTensor, opHeader, opLabel } from './messages.js';
import { AttemptCounter, type MaskKeys } from './op-streams.js';
import { HEADROOM_STEP, MAX_RETRIES, OverflowError } from './overflow.js';
import { checkLengths } from './quantized-executor.js';
import { reconstructDequantize } from './reconstruct.js';
import type { OpAttempt } from './worker-compute.js';

export interface SecureExecutorOptions {
  /** Connections to workers 0, 1, 2 (already keyed and greeted). */
  readonly workers: readonly [Connection, Connection, Connection];
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
  readonly #o: SecureExecutorOptions;
  readonly #pool = new BufferPool();
  readonly #stats: ExecutorStats = { ops: 0, overflows: 0 };
  /** Global attempt sequence number: the frames' opId (identical in both replicas). */
  #seq = 0;
  #step = 0;
  #digest: Hash | null;

  constructor(o: SecureExecutorOptions) {
    this.#o = o;
    this.#digest = o.replica ? createHash('sha256') : null;
  }

  async run(op: BilinearOp, tag: OpTag, a: Float32Array, b: Float32Array, c: Float32Array): Promise<void> {
    const sz = bilinearSizes(op);
    checkLengths(op, sz, a, b, c);
    this.#stats.ops++;
    for (let retry = 0; ; retry++) {
      const at: OpAttempt = { op, layer: tag.index, attempt: this.attempts.take(tag.index, op.pass) };
      const { maxAbs, flagged } = await this.#attempt(at, retry * HEADROOM_STEP, a, b, c);
      if (!flagged) return;
      this.#stats.overflows++;
      if (retry === MAX_RETRIES) throw new OverflowError(tag.layer, op.pass, maxAbs);
    }
  }

  async #attempt(at: OpAttempt, headroom: number, a: Float32Array, b: Float32Array, c: Float32Array) {
    const { feeds, keys, noiseKey, workers } = this.#o;
    const opId = this.#seq++ >>> 0;
    const label = opLabel(at);
    const prep = prepareAttempt(feeds, keys, noiseKey, at, headroom, a, b, this.#pool);
    if (this.#digest) {
      this.#digest.update(Int32Array.of(at.layer, at.attempt, prep.eA, prep.eB));
      this.#digest.update(prep.aq).update(prep.bq);
    }
    const header = { type: MsgType.OpRequest, opId, label, dtype: 'json' as const, value: opHeader(at) };
    const share = (data: Int32Array) => ({ type: MsgType.Shares, opId, label, dtype: 'int32' as const, data });
    const sends: Promise<void>[] = [];
    if (feeds.w0) sends.push(workers[0].send(header), workers[0].send(share(prep.e)), workers[0].send(share(prep.f)));
    if (feeds.w1) {
      const w = workers[1];
      sends.push(w.send(header), w.send(share(prep.a1!)), w.send(share(prep.b1!)), w.send(share(prep.e)), w.send(share(prep.f)));
    }
    if (feeds.w2) sends.push(workers[2].send(header));
    // step 5, overlapped with the workers' products
    const mask = outputMaskSum(keys, at, this.#pool);
    const n = bilinearSizes(at.op).c;
    const sent = Promise.all(sends);
    sent.catch(() => {}); // a failed send also fails its worker's result below, which is what we report
    const results = await Promise.all([0, 1, 2].map((i) => this.#result(i, opId, n)));
    await sent;
    try {
      return reconstructDequantize([results[0].data, results[1].data, results[2].data, mask], prep.eA + prep.eB - 12, c);
    } finally {
      for (const r of results) r.release();
    }
  }

  async #result(worker: number, opId: number, n: number): Promise<{ data: Int32Array; release(): void }> {
    const conn = this.#o.workers[worker];
    let msg: ReceivedMessage;
    try {
      msg = await conn.expect(MsgType.Result, { opId, timeoutMs: this.#o.timeoutMs });
    } catch (err) {
      throw new ProtocolError(`worker ${worker} (${conn.peer}) failed during op ${opId}: ${(err as Error).message}`);
    }
    try {
      const data = checkShareTensor(msg.dtype === 'json' ? null : msg.data, n, `result of worker ${worker}`);
      return { data, release: () => msg.release() };
    } catch (err) {
      msg.release();
      conn.destroy(err as Error);
      throw err;
    }
  }

  /** Replicated topology: exchange and compare this step's digest; throws on divergence. */
  async endStep(): Promise<void> {
    const { replica } = this.#o;
    if (!replica || !this.#digest) return;
    const mine = this.#digest.digest('hex');
    this.#digest = createHash('sha256');
    const step = this.#step++;
    await replica.send({ type: MsgType.Digest, opId: step >>> 0, dtype: 'json', value: { step, digest: mine } });
    const msg = await replica.expect(MsgType.Digest, { opId: step >>> 0, timeoutMs: this.#o.timeoutMs });
    const theirs = (msg.dtype === 'json' ? (msg.value as { digest?: unknown }).digest : undefined) as unknown;
    if (theirs !== mine) {
      throw new ReplicaDivergenceError(
        `enclave replicas diverged at step ${step}: the quantized tensors or exponents differ (${String(theirs).slice(0, 16)}… vs ${mine.slice(0, 16)}…); stopping`,
      );
    }
  }

  stats(): ExecutorStats {
    return { ...this.#stats };
  }

  /** Says goodbye to the workers this enclave feeds and closes every connection. */
  async close(): Promise<void> {
    const { workers, feeds } = this.#o;
    const fed = [feeds.w0, feeds.w1, feeds.w2];
    await Promise.allSettled(workers.map((w, i) => (fed[i] && !w.isClosed ? w.send({ type: MsgType.Bye, dtype: 'json', value: {} }) : null)));
    await Promise.allSettled([...workers.map((w) => w.close()), this.#o.replica?.close()]);
  }
}
