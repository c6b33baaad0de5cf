/**
 * An untrusted worker's op loop (docs/protocol.md). It receives op requests from
 * its feeding enclave and computes its party's formula on the backend:
 *   goten  protocol/worker-compute.ts; the result goes to every subscribed enclave
 *          (one in the single topology, both replicas in the replicated one);
 *   lean   lean-worker-op.ts; the workers exchange operands and parts over their
 *          links, and worker 1 sends the aggregate to every subscribed enclave.
 *
 * Every input is untrusted: a malformed header, a tensor of the wrong size or
 * with values outside Z_P's centred range closes that connection with a clear
 * error frame; the worker process carries on.
 */
import type { Backend } from '../backend/backend.js';
import { bilinearSizes } from '../backend/bilinear.js';
import { MsgType } from '../net/message-types.js';
import { ConnectionClosedError, type Connection, type ReceivedMessage } from '../net/transport.js';
import { NamedBuffers } from '../backend/named-buffers.js';
import { type EnclaveKernels, enclaveKernels } from '../protocol/enclave-kernels.js';
import { type LeanAttempt, parseLeanHeader } from '../protocol/lean-op.js';
import { ProtocolError, checkShareTensor, parseOpHeader, sayBye } from '../protocol/messages.js';
import type { ProtocolName } from '../protocol/variant.js';
import { type LeanLinks, type LeanWorkerContext, OperandCache, RecentParts, answerParts, serveLeanOp } from './lean-worker-op.js';
import type { LeanWorker0Keys, LeanWorker1Keys, LeanWorker2Keys } from '../protocol/lean-compute.js';
import type { OpAttempt } from '../protocol/op-attempt.js';
import {
  type Worker0Keys,
  type Worker1Keys,
  type Worker2Keys,
  computeWorker0,
  computeWorker1,
  computeWorker2,
} from '../protocol/worker-compute.js';

export type WorkerParty = 0 | 1 | 2;
export type WorkerKeys = Worker0Keys | Worker1Keys | Worker2Keys | LeanWorker0Keys | LeanWorker1Keys | LeanWorker2Keys;

export interface WorkerServiceOptions {
  /** Default goten (a lean session needs `links`). */
  readonly protocol?: ProtocolName;
  /** Lean: the links to the other workers. */
  readonly links?: LeanLinks;
  /** Kernels for PRG draws and packing (default: native when available). */
  readonly kernels?: EnclaveKernels;
  /** Testing only (fault-injection.ts): sees every result this worker computes before it is sent. */
  readonly fault?: (out: Int32Array) => void;
}

export interface WorkerStats {
  ops: number;
  /** Wall time spent computing (products, masks), ms. */
  busyMs: number;
}

export class WorkerService {
  readonly #subscribers = new Set<Connection>();
  readonly #pool = new NamedBuffers();
  readonly stats: WorkerStats = { ops: 0, busyMs: 0 };
  /**
   * Observer of every tensor this worker receives (auditing and the privacy
   * tests). Called with the validated values before they are used and, for a
   * tensor that arrived packed (lean), its bytes as they were on the wire; must
   * not keep either array (they are pooled buffers).
   */
  onReceive: ((what: string, data: Int32Array, at: OpAttempt, wire?: Uint8Array) => void) | null = null;
  readonly protocol: ProtocolName;
  readonly #lean: LeanWorkerContext | null;
  readonly #fault: ((out: Int32Array) => void) | null;

  constructor(
    readonly party: WorkerParty,
    readonly backend: Backend,
    readonly keys: WorkerKeys,
    o: WorkerServiceOptions = {},
  ) {
    this.protocol = o.protocol ?? 'goten';
    this.#fault = o.fault ?? null;
    this.#lean =
      this.protocol === 'lean'
        ? {
            party,
            backend,
            kernels: o.kernels ?? enclaveKernels('auto'),
            keys: keys as LeanWorkerContext['keys'],
            links: o.links ?? {},
            cache: new OperandCache(),
            pool: this.#pool,
            subscribers: () => [...this.#subscribers],
            onReceive: (what, data, at, wire) => this.onReceive?.(what, data, at, wire),
            busy: (ms) => (this.stats.busyMs += ms),
            fault: this.#fault,
            recent: new RecentParts(),
          }
        : null;
  }

  /** Results of every op go to this connection too (until it closes). */
  addSubscriber(conn: Connection): void {
    this.#subscribers.add(conn);
    void conn.closed.then(() => this.#subscribers.delete(conn));
  }

  /**
   * Serves op requests from a feeding enclave until it says goodbye or the
   * connection closes. Resolves normally on a clean end; a protocol violation
   * closes the connection and resolves with the error (the service survives).
   */
  async serveFeeder(conn: Connection): Promise<Error | null> {
    // one feeder at a time: ops share this service's pooled buffers ('out' is reused as soon
    // as its sends resolve), so a second concurrent feeder would overwrite results in flight
    if (this.#feeding) {
      const err = new ProtocolError(`worker ${this.party} already has a feeding enclave; a second feeder is refused`);
      conn.destroy(err);
      return err;
    }
    this.#feeding = true;
    try {
      return await this.#serveFeeder(conn);
    } finally {
      this.#feeding = false;
    }
  }

  #feeding = false;
  #bye = false;

  /**
   * Whether an enclave ended the session with a goodbye (else its connection closed or broke: an enclave
   * that lost another worker abandons the session and opens a new one, protocol/recovery.ts).
   */
  get saidBye(): boolean {
    return this.#bye;
  }

  async #serveFeeder(conn: Connection): Promise<Error | null> {
    for (;;) {
      const req = await this.#next(conn);
      if (!('type' in req)) return req.end;
      try {
        if (req.type !== MsgType.OpRequest || req.dtype !== 'json') {
          throw new ProtocolError(`expected an op request, got message type ${req.type}`);
        }
        if (this.#lean) await this.#serveLean(this.#lean, conn, req.opId, req.label, parseLeanHeader(req.value), req.value);
        else await this.#serveOp(conn, req.opId, req.label, parseOpHeader(req.value));
      } catch (err) {
        req.release();
        conn.destroy(err as Error);
        return err as Error;
      }
    }
  }

  /**
   * Serves an enclave that does not feed this worker (it only receives results: lean worker 1's
   * enclaves, the paper's replica e1 at workers 0 and 2): statistics requests and its goodbye. Anything
   * else closes that connection.
   */
  async serveSubscriber(conn: Connection): Promise<Error | null> {
    const req = await this.#next(conn);
    if (!('type' in req)) return req.end;
    req.release();
    const err = new ProtocolError(`this enclave does not feed worker ${this.party}; message type ${req.type} refused`);
    conn.destroy(err);
    return err;
  }

  /**
   * The next message on `conn` that is not control traffic this service answers itself: statistics
   * requests and (lean) culprit requests for the last op's parts are answered here; a goodbye (passed on to worker 1 by lean worker 0) or a closed connection
   * ends the loop: `{ end }` (null for a clean end).
   */
  async #next(conn: Connection): Promise<ReceivedMessage | { end: Error | null }> {
    for (;;) {
      let req: ReceivedMessage;
      try {
        req = await conn.recv();
      } catch (err) {
        return { end: err instanceof ConnectionClosedError ? null : (err as Error) };
      }
      if (req.type === MsgType.Bye) {
        this.#bye = true;
        if (this.#lean?.party === 0 && this.#lean.links.w1) await sayBye(this.#lean.links.w1);
        await conn.close();
        return { end: null };
      }
      const kind = req.type === MsgType.Control && req.dtype === 'json' ? (req.value as { kind?: unknown } | null)?.kind : undefined;
      if (kind !== 'stats' && !(kind === 'parts' && this.#lean)) return req;
      req.release();
      try {
        if (kind === 'parts') {
          await answerParts(this.#lean!, conn, req.opId);
        } else {
          const cpu = process.cpuUsage();
          const value = { kind: 'stats', ...this.stats, cpuMs: (cpu.user + cpu.system) / 1000 };
          await conn.send({ type: MsgType.Control, opId: req.opId, dtype: 'json', value });
        }
      } catch (err) {
        // the peer left mid-reply: end like any other closed connection
        // (a rejection here would take the whole worker process down)
        conn.destroy(err as Error);
        return { end: err instanceof ConnectionClosedError ? null : (err as Error) };
      }
    }
  }

  async #serveLean(ctx: LeanWorkerContext, conn: Connection, opId: number, label: string, at: LeanAttempt, header: unknown): Promise<void> {
    await serveLeanOp(ctx, conn, opId, label, at, header);
    this.stats.ops++;
  }

  async #serveOp(conn: Connection, opId: number, label: string, at: OpAttempt): Promise<void> {
    const sz = bilinearSizes(at.op);
    const inputs: ReceivedMessage[] = [];
    const take = async (n: number, what: string): Promise<Int32Array> => {
      const m = await conn.expect(MsgType.Shares, { opId });
      inputs.push(m);
      const data = checkShareTensor(m.dtype === 'json' ? null : m.data, n, what);
      this.onReceive?.(what, data, at);
      return data;
    };
    try {
      const out = this.#pool.int32('out', sz.c);
      if (this.party === 0) {
        const e = await take(sz.a, 'E');
        const f = await take(sz.b, 'F');
        const t0 = performance.now();
        computeWorker0(this.backend, this.keys as Worker0Keys, at, e, f, out, this.#pool);
        this.stats.busyMs += performance.now() - t0;
      } else if (this.party === 1) {
        const a1 = await take(sz.a, 'A1');
        const b1 = await take(sz.b, 'B1');
        const e = await take(sz.a, 'E');
        const f = await take(sz.b, 'F');
        const t0 = performance.now();
        computeWorker1(this.backend, this.keys as Worker1Keys, at, a1, b1, e, f, out, this.#pool);
        this.stats.busyMs += performance.now() - t0;
      } else {
        const t0 = performance.now();
        computeWorker2(this.backend, this.keys as Worker2Keys, at, out, this.#pool);
        this.stats.busyMs += performance.now() - t0;
      }
      this.#fault?.(out);
      this.stats.ops++;
      const targets = this.#subscribers.size > 0 ? [...this.#subscribers] : [conn];
      await Promise.all(targets.map((s) => s.send({ type: MsgType.Result, opId, label, dtype: 'int32', data: out })));
    } finally {
      for (const m of inputs) m.release();
    }
  }
}
