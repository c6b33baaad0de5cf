/**
 * Shared machinery of every Connection implementation: the receive queue with
 * awaitable recv()/expect(), counters, Error-frame handling, termination and
 * receive flow control (pause the source while too many bytes wait unread).
 */
import { TrafficCounters } from './counters.js';
import type { OutgoingMessage, ReceivedMessage } from './frame.js';
import { MsgType, messageTypeName } from './message-types.js';
import {
  ConnectionClosedError,
  PeerError,
  TimeoutError,
  UnexpectedMessageError,
  type Connection,
  type ExpectOptions,
  type RecvOptions,
} from './transport.js';

interface Waiter {
  resolve(msg: ReceivedMessage): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024 * 1024;

export abstract class BaseConnection implements Connection {
  readonly counters: TrafficCounters;
  private readonly queue: ReceivedMessage[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private paused = false;
  private readonly waiters: Waiter[] = [];
  private failure: Error | null = null;
  private resolveClosed!: (reason: Error | null) => void;
  private closeReason: Error | null = null;
  private finished = false;
  readonly closed: Promise<Error | null>;

  constructor(
    readonly peer: string,
    readonly peerPublicKey: string | undefined,
    protected maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES,
  ) {
    this.counters = new TrafficCounters(peer);
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  abstract send(msg: OutgoingMessage): Promise<void>;
  abstract close(): Promise<void>;
  abstract destroy(reason?: Error): void;
  /** Stop/start reading from the source (flow control). */
  protected abstract pauseSource(): void;
  protected abstract resumeSource(): void;

  get isClosed(): boolean {
    return this.failure !== null;
  }

  private idle: { ms: number; timer: NodeJS.Timeout } | null = null;

  /**
   * Destroy this connection with a TimeoutError when nothing, not even a Keepalive, arrives for `ms`
   * (0 turns it off): a peer that stalls must not hold the other side forever.
   */
  setIdleTimeout(ms: number): void {
    if (this.idle) clearTimeout(this.idle.timer);
    this.idle = null;
    if (ms <= 0 || this.failure) return;
    const timer = setTimeout(() => {
      const err = new TimeoutError(`no message from ${this.peer} for ${ms} ms (idle timeout); connection closed`);
      this.fail(err);
      this.destroy(err);
    }, ms);
    timer.unref();
    this.idle = { ms, timer };
    void this.closed.then(() => this.idle && clearTimeout(this.idle.timer));
  }

  /** Subclasses call this for every decoded frame. */
  protected deliver(msg: ReceivedMessage): void {
    if (this.failure) {
      msg.release();
      return;
    }
    this.idle?.timer.refresh();
    if (msg.type === MsgType.Keepalive) {
      // connection upkeep, not traffic of any protocol: neither queued nor counted
      msg.release();
      return;
    }
    this.counters.countReceived(msg.type, msg.label, msg.frameBytes);
    if (msg.type === MsgType.Error) {
      const v = (msg.dtype === 'json' ? msg.value : null) as { code?: unknown; message?: unknown } | null;
      const code = typeof v?.code === 'string' ? v.code : 'ERROR';
      const text = typeof v?.message === 'string' ? v.message : 'no reason given';
      msg.release(); // an Error frame with a tensor body: its buffer must go back to its pool
      this.onPeerError(new PeerError(this.peer, code, text));
      return;
    }
    const w = this.waiters.shift();
    if (w) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(msg);
      return;
    }
    this.queue.push(msg);
    this.queuedBytes += msg.frameBytes;
    if (!this.paused && this.queuedBytes > this.maxQueuedBytes) {
      this.paused = true;
      this.pauseSource();
    }
  }

  /** An Error frame arrived; subclasses close the channel. */
  protected onPeerError(err: PeerError): void {
    this.fail(err);
    this.destroy(err);
  }

  /**
   * Mark the connection failed/closed: no more frames are accepted; waiters are
   * rejected once the queue is drained. Idempotent (the first reason wins).
   */
  protected fail(reason: Error): void {
    if (this.failure) return;
    this.failure = reason;
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(reason);
    }
  }

  /** The underlying channel is fully closed; `clean` if nothing went wrong. */
  protected finish(reason: Error | null): void {
    if (this.finished) return;
    this.finished = true;
    this.fail(reason ?? new ConnectionClosedError(`connection to ${this.peer} is closed`));
    this.closeReason = reason;
    this.resolveClosed(reason);
  }

  recv(opts: RecvOptions = {}): Promise<ReceivedMessage> {
    if (this.queueHead < this.queue.length) {
      const msg = this.queue[this.queueHead];
      this.queue[this.queueHead++] = undefined as unknown as ReceivedMessage;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      this.queuedBytes -= msg.frameBytes;
      if (this.paused && this.queuedBytes <= this.maxQueuedBytes / 2) {
        this.paused = false;
        this.resumeSource();
      }
      return Promise.resolve(msg);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: undefined };
      if (opts.timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new TimeoutError(`no message from ${this.peer} within ${opts.timeoutMs} ms`));
        }, opts.timeoutMs);
      }
      this.waiters.push(w);
    });
  }

  async expect(type: number, opts: ExpectOptions = {}): Promise<ReceivedMessage> {
    const msg = await this.recv(opts);
    const problems: string[] = [];
    if (msg.type !== type) problems.push(`type ${messageTypeName(msg.type)}, expected ${messageTypeName(type)}`);
    if (opts.opId !== undefined && msg.opId !== opts.opId) problems.push(`op id ${msg.opId}, expected ${opts.opId}`);
    if (opts.label !== undefined && msg.label !== opts.label) problems.push(`label "${msg.label}", expected "${opts.label}"`);
    if (problems.length === 0) return msg;
    msg.release();
    const err = new UnexpectedMessageError(`protocol violation by ${this.peer}: got ${problems.join(', ')}`);
    this.fail(err);
    this.destroy(err);
    throw err;
  }

  /** The reason the connection closed (null while open or if clean). */
  get closeError(): Error | null {
    return this.closeReason;
  }
}
