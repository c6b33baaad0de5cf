/**
 * The accept queue shared by all Listener implementations.
 */
import type { Connection, Listener, RecvOptions } from './transport.js';
import { ConnectionClosedError, TimeoutError } from './transport.js';

interface AcceptWaiter {
  resolve(c: Connection): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** Connections that may wait unaccepted (each holds a socket and its received frames). */
export const MAX_PENDING_CONNECTIONS = 64;

export class AcceptQueue {
  private readonly ready: Connection[] = [];
  private readonly waiters: AcceptWaiter[] = [];
  private closedError: Error | null = null;

  constructor(
    private readonly what: string,
    private readonly maxPending = MAX_PENDING_CONNECTIONS,
  ) {}

  push(conn: Connection): void {
    if (this.closedError) {
      conn.destroy(this.closedError);
      return;
    }
    const w = this.waiters.shift();
    if (w) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(conn);
    } else if (this.ready.length >= this.maxPending) {
      // nobody is accepting (e.g. a worker in mid-session): refuse instead of
      // letting unauthenticated peers pile up sockets and buffered frames
      conn.destroy(new ConnectionClosedError(`listener ${this.what} has ${this.maxPending} connections waiting to be accepted; refused`));
    } else {
      this.ready.push(conn);
    }
  }

  accept(opts: RecvOptions = {}): Promise<Connection> {
    const c = this.ready.shift();
    if (c) return Promise.resolve(c);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const w: AcceptWaiter = { resolve, reject, timer: undefined };
      if (opts.timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new TimeoutError(`no connection accepted on ${this.what} within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
      this.waiters.push(w);
    });
  }

  /** Reject waiting accepts; connections not yet accepted are destroyed. */
  close(): void {
    if (this.closedError) return;
    this.closedError = new ConnectionClosedError(`listener ${this.what} is closed`);
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(this.closedError);
    }
    for (const c of this.ready.splice(0)) c.destroy(this.closedError);
  }
}

/** Promise that rejects with a TimeoutError after `ms` (timer unref'd), plus a cancel. */
export function deadline(ms: number, what: string): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** A Listener over a node:net or node:tls server whose connections land in an AcceptQueue. */
export class ServerListener implements Listener {
  constructor(
    private readonly server: { close(cb: () => void): unknown },
    private readonly queue: AcceptQueue,
    readonly host: string,
    readonly port: number,
  ) {}

  accept(opts?: { timeoutMs?: number }): Promise<Connection> {
    return this.queue.accept(opts);
  }

  close(): Promise<void> {
    this.queue.close();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
