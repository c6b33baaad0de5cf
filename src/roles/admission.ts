/**
 * Admission of a worker's incoming connections (roles/worker.ts). Every connection runs its session
 * set-up (AKE, hello, seeds) concurrently with the others and under a deadline, so a silent peer delays
 * nobody; a serial set-up let 65 silent connections (one in set-up, 64 queued) lock the enclave out.
 * Unauthenticated connections are bounded in total and per remote address: when a bound is reached,
 * the oldest connection still in set-up is dropped (silent ones first), so a newly arriving one, the
 * configured enclave's among them, always gets a slot. The enclave completes its set-up in a few round
 * trips; silent peers can only be pushed out by it, never keep it out.
 *
 * Once admitted, a connection's receive limits are raised and its peer is told so (ADMITTED, below);
 * the peer sends nothing large before that.
 *
 * While a session runs the worker serves no one else: a connection arriving then waits `busyGraceMs`
 * for the session to end (back-to-back sessions), then gets an Error frame {code: 'BUSY'} naming the
 * reason, instead of a silent timeout.
 */
import { MsgType } from '../net/message-types.js';
import { ConnectionClosedError, TimeoutError, type Connection, type Listener } from '../net/transport.js';

export interface AdmissionLimits {
  /** A connection must complete its session set-up within this (ms). */
  readonly timeoutMs: number;
  /** Connections in set-up at once, in total. */
  readonly maxInProgress: number;
  /** Connections in set-up at once from one remote address. */
  readonly maxPerAddress: number;
  /** While a session runs, how long a new connection waits for it to end before it is refused (ms). */
  readonly busyGraceMs: number;
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = { timeoutMs: 10_000, maxInProgress: 32, maxPerAddress: 8, busyGraceMs: 2_000 };

interface Pending {
  readonly conn: Connection;
  readonly address: string;
  timer: NodeJS.Timeout | undefined;
}

export interface Admitted<T> {
  readonly conn: Connection;
  readonly value: T;
}

/** The remote address of an unauthenticated connection ("host:port" → host; tls: the pinned party name). */
function addressOf(conn: Connection): string {
  return conn.peer.replace(/:\d+$/, '');
}

export class Admissions<T> {
  readonly #inProgress: Pending[] = [];
  readonly #held: Pending[] = [];
  readonly #done: Admitted<T>[] = [];
  #waiter: { resolve(a: Admitted<T>): void; reject(e: Error): void } | null = null;
  #busy: string | null = null;
  #ended: Error | null = null;

  constructor(
    listener: Listener,
    private readonly admit: (conn: Connection) => Promise<T>,
    private readonly limits: AdmissionLimits,
    private readonly onFail: (err: Error) => void,
  ) {
    void this.#acceptLoop(listener);
  }

  /** The next connection that completed its set-up; rejects once the listener is closed. */
  next(): Promise<Admitted<T>> {
    const a = this.#done.shift();
    if (a) return Promise.resolve(a);
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => (this.#waiter = { resolve, reject }));
  }

  /**
   * A session starts (`reason`: what a refused peer is told) or ends (null). Connections still in
   * set-up or admitted but not taken belong to no session: they are refused.
   */
  busy(reason: string | null): void {
    this.#busy = reason;
    if (reason !== null) {
      for (const p of this.#inProgress.splice(0)) this.#refuse(p, reason);
      for (const a of this.#done.splice(0)) this.#refuse({ conn: a.conn, address: '', timer: undefined }, reason);
      return;
    }
    for (const p of this.#held.splice(0)) {
      clearTimeout(p.timer);
      this.#start(p.conn);
    }
  }

  /** Drops everything not yet taken (the listener is closed by its owner, which ends the accept loop). */
  close(): void {
    for (const p of [...this.#inProgress.splice(0), ...this.#held.splice(0)]) {
      clearTimeout(p.timer);
      p.conn.destroy();
    }
    for (const a of this.#done.splice(0)) a.conn.destroy();
  }

  async #acceptLoop(listener: Listener): Promise<void> {
    for (;;) {
      let conn: Connection;
      try {
        conn = await listener.accept();
      } catch (err) {
        this.#ended = err as Error; // the listener is closed
        this.#waiter?.reject(this.#ended);
        this.#waiter = null;
        return;
      }
      if (this.#busy === null) this.#start(conn);
      else this.#hold(conn, this.#busy);
    }
  }

  #start(conn: Connection): void {
    const p: Pending = { conn, address: addressOf(conn), timer: undefined };
    this.#makeRoom(this.#inProgress, p.address);
    p.timer = setTimeout(() => conn.destroy(new TimeoutError(`session set-up by ${conn.peer} took longer than ${this.limits.timeoutMs} ms`)), this.limits.timeoutMs);
    this.#inProgress.push(p);
    this.admit(conn).then(
      (value) => {
        if (!this.#remove(this.#inProgress, p)) return; // dropped or refused meanwhile
        const a = { conn, value };
        const w = this.#waiter;
        this.#waiter = null;
        if (w) w.resolve(a);
        else this.#done.push(a);
      },
      (err: Error) => {
        if (this.#remove(this.#inProgress, p)) this.onFail(err); // (dropped or refused ones were reported then)
        conn.destroy(err);
      },
    );
  }

  #hold(conn: Connection, reason: string): void {
    const p: Pending = { conn, address: addressOf(conn), timer: undefined };
    this.#makeRoom(this.#held, p.address);
    p.timer = setTimeout(() => {
      if (this.#remove(this.#held, p)) this.#refuse(p, this.#busy ?? reason);
    }, this.limits.busyGraceMs);
    this.#held.push(p);
  }

  /** Removes `p` from `list` and clears its timer; false if it was no longer there. */
  #remove(list: Pending[], p: Pending): boolean {
    clearTimeout(p.timer);
    const i = list.indexOf(p);
    if (i < 0) return false;
    list.splice(i, 1);
    return true;
  }

  /** Drops the oldest entry (silent ones first) while `list` or `address`'s share of it is full. */
  #makeRoom(list: Pending[], address: string): void {
    for (;;) {
      const same = list.filter((p) => p.address === address);
      const pool = same.length >= this.limits.maxPerAddress ? same : list.length >= this.limits.maxInProgress ? list : null;
      if (!pool) return;
      const victim = pool.find((p) => p.conn.counters.received.frames === 0) ?? pool[0];
      this.#remove(list, victim);
      const err = new ConnectionClosedError(`dropped ${victim.conn.peer}: too many connections in session set-up`);
      this.onFail(err);
      victim.conn.destroy(err);
    }
  }

  #refuse(p: Pending, reason: string): void {
    clearTimeout(p.timer);
    p.conn.send({ type: MsgType.Error, dtype: 'json', value: { code: 'BUSY', message: reason } }).then(
      () => p.conn.close(),
      () => p.conn.destroy(),
    );
  }
}

/**
 * The worker's answer to a connection it admitted (an enclave after its hello and seeds, a lean link after
 * its link hello), sent once the connection's receive limits are raised. The peer waits for it before
 * sending anything larger than PRE_AUTH_LIMITS: otherwise a large frame sent right behind the hello (an
 * op retried at once after a recovery, w0 relaying it to a freshly restarted w1) could reach the decoder
 * while the small limits still hold, and the worker would drop the connection as OVERSIZED.
 */
export const ADMITTED = { kind: 'admitted' } as const;

/** Waits for the worker's ADMITTED on `conn` (the enclave: session.ts; w0 and w2 dialling w1: worker.ts). */
export async function expectAdmitted(conn: Connection, timeoutMs: number): Promise<void> {
  const m = await conn.expect(MsgType.Control, { timeoutMs });
  const v = m.dtype === 'json' ? (m.value as { kind?: unknown } | null) : null;
  m.release();
  if (v?.kind !== ADMITTED.kind) throw new Error(`${conn.peer} did not admit the connection (unexpected ${m.dtype === 'json' ? JSON.stringify(v) : m.dtype} answer)`);
}
