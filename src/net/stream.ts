/**
 * A Connection over an ordered byte stream (a TCP or TLS socket, or the
 * in-process byte pipe): frames out through the encoder, bytes in through the
 * incremental decoder.
 *
 * Sending: header and payload are written as two chunks under cork/uncork, so
 * a socket issues one writev and the payload is never copied in user space.
 * Receiving: see src/net/decoder.ts. On a malformed frame the connection sends
 * an Error frame {code, message} (best effort), half-closes, and is destroyed
 * at the latest one second later.
 */
import type { Socket } from 'node:net';
import { BaseConnection } from './connection.js';
import { FrameDecoder } from './decoder.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameError, encodeFrame, type OutgoingMessage } from './frame.js';
import { MsgType } from './message-types.js';
import { defaultPool, type BufferPool, type ReceivePool } from './pool.js';
import { ConnectionClosedError } from './transport.js';

/**
 * Reads straight into the receiver's own memory: `target` is where the next bytes of the stream may be
 * written (null: nowhere in particular, use a scratch buffer), `filled(n)` says n bytes were written there.
 */
export interface DirectReads {
  target(): Uint8Array | null;
  filled(n: number): void;
}

/** The minimal byte-stream surface a StreamConnection needs. */
export interface ByteChannel {
  /** Write the chunks in order, as one batch if possible; `done` once all are flushed or failed. */
  write(chunks: readonly Uint8Array[], done: (err?: Error | null) => void): void;
  /**
   * Install handlers (called once). `close` fires exactly once, last, with the error if any. `direct`
   * (optional): a channel that can read into the receiver's memory does so, and reports it there instead
   * of through `data`.
   */
  start(handlers: { data(chunk: Uint8Array): void; end(): void; close(err?: Error): void; direct?: DirectReads }): void;
  pause(): void;
  resume(): void;
  /** Half-close after queued writes. */
  end(): void;
  destroy(err?: Error): void;
}

/**
 * Reads of a client TCP socket (node:net `onread`, whose buffer is chosen per read): while the
 * receiver is inside a large payload, straight into that payload's pooled buffer (DirectReads: no
 * copy at all); otherwise into one reused 256 KiB buffer, whose chunks the frame decoder copies
 * synchronously. No allocation per read either way, so receiving hundreds of MB per second does
 * not churn the external memory V8 accounts for (each churned chunk otherwise costs page faults
 * and drives mark-compact GCs). Chunks that arrive before the connection installs its handler are
 * copied and queued.
 */
export class ReadSink {
  readonly #buffer = new Uint8Array(256 * 1024);
  #handler: ((chunk: Uint8Array) => void) | null = null;
  #direct: DirectReads | null = null;
  /** The receiver's memory handed out for the read in progress (null: the scratch buffer). */
  #lent: Uint8Array | null = null;
  #early: Uint8Array[] = [];

  onread(): { buffer: () => Uint8Array; callback: (n: number, buf: Uint8Array) => boolean } {
    return {
      buffer: () => (this.#lent = this.#direct?.target() ?? null) ?? this.#buffer,
      callback: (n, buf) => {
        if (this.#lent !== null && buf === this.#lent) {
          this.#lent = null;
          this.#direct!.filled(n);
          return true;
        }
        const chunk = buf.subarray(0, n);
        if (this.#handler) this.#handler(chunk);
        else this.#early.push(chunk.slice());
        return true;
      },
    };
  }

  attach(handler: (chunk: Uint8Array) => void, direct?: DirectReads): void {
    this.#handler = handler;
    this.#direct = direct ?? null;
    const early = this.#early;
    this.#early = [];
    for (const c of early) handler(c);
  }
}

/**
 * ByteChannel over a node:net / node:tls socket (reading through `reads` when the socket was opened with it).
 * Every frame written in one turn of the event loop goes out in one writev (the socket stays corked until
 * the turn's next tick): a request header and its tensors cost one system call, not one each.
 */
export function socketChannel(sock: Socket, reads?: ReadSink): ByteChannel {
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  return {
    write(chunks, done) {
      if (sock.destroyed || !sock.writable) {
        done(new ConnectionClosedError('socket is not writable'));
        return;
      }
      if (!corked) {
        corked = true;
        sock.cork();
        process.nextTick(uncork);
      }
      for (let i = 0; i < chunks.length - 1; i++) sock.write(chunks[i]);
      sock.write(chunks[chunks.length - 1], done);
    },
    start(h) {
      let error: Error | undefined;
      if (reads) reads.attach(h.data, h.direct);
      else sock.on('data', h.data);
      sock.on('end', h.end);
      sock.on('error', (err) => (error ??= err));
      sock.on('close', () => h.close(error));
      // In case the socket closed before handlers were installed.
      if (sock.destroyed) queueMicrotask(() => h.close(error ?? new ConnectionClosedError('socket already closed')));
    },
    pause: () => sock.pause(),
    resume: () => sock.resume(),
    end: () => sock.end(),
    destroy: (err) => sock.destroy(err),
  };
}

export interface StreamConnectionOptions {
  peer: string;
  peerPublicKey?: string;
  maxFrameBytes?: number;
  pool?: BufferPool;
  maxQueuedBytes?: number;
}

export class StreamConnection extends BaseConnection {
  private readonly decoder: FrameDecoder;
  private maxFrameBytes: number;
  private ending = false;
  private destroyed = false;

  constructor(
    private readonly channel: ByteChannel,
    opts: StreamConnectionOptions,
  ) {
    super(opts.peer, opts.peerPublicKey, opts.maxQueuedBytes);
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.decoder = new FrameDecoder((m) => this.deliver(m), { maxFrameBytes: this.maxFrameBytes, pool: opts.pool ?? defaultPool });
    channel.start({
      data: (chunk) => this.onData(chunk),
      end: () => this.onEnd(),
      close: (err) => this.onClose(err),
      direct: {
        target: () => (this.isClosed ? null : this.decoder.directTarget()),
        filled: (n) => this.onDirect(n),
      },
    });
  }

  private onDirect(n: number): void {
    if (this.isClosed) return;
    try {
      this.decoder.directFilled(n);
    } catch (err) {
      this.protocolError(err as Error);
    }
  }

  private onData(chunk: Uint8Array): void {
    if (this.isClosed) return;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      this.protocolError(err as Error);
    }
  }

  private onEnd(): void {
    try {
      this.decoder.end();
    } catch (err) {
      this.protocolError(err as Error);
      return;
    }
    this.fail(new ConnectionClosedError(`${this.peer} closed the connection`));
    this.channel.end();
  }

  private onClose(err?: Error): void {
    if (this.decoder.midFrame && !err && !this.isClosed) {
      try {
        this.decoder.end();
      } catch (e) {
        err = e as Error;
      }
    }
    this.decoder.discard(); // a frame cut off by the close: its buffer goes back to its pool
    this.finish(err ?? null);
  }

  /** Malformed input or a protocol violation: tell the peer, close. */
  private protocolError(err: Error): void {
    if (this.isClosed) return;
    this.fail(err);
    this.closeReasonOverride = err;
    const code = err instanceof FrameError ? err.code : err.name;
    try {
      const f = encodeFrame({ type: MsgType.Error, dtype: 'json', value: { code, message: err.message } });
      this.counters.countSent(f.meta.type, f.meta.label, f.frameBytes);
      this.channel.write([f.header, f.payload], () => {});
    } catch {
      /* best effort */
    }
    this.ending = true;
    this.channel.end();
    setTimeout(() => this.channel.destroy(), 1000).unref();
  }

  private closeReasonOverride: Error | null = null;

  protected override finish(reason: Error | null): void {
    super.finish(reason ?? this.closeReasonOverride);
  }

  /**
   * Receive limits of this connection from now on (frames whose header is still
   * to come, and the unconsumed queue). A server accepts unauthenticated peers
   * with small limits and raises them once the peer has authenticated.
   */
  setReceiveLimits(limits: { maxFrameBytes?: number; maxQueuedBytes?: number }): void {
    if (limits.maxFrameBytes !== undefined) {
      this.decoder.setMaxFrameBytes(limits.maxFrameBytes);
      this.maxFrameBytes = limits.maxFrameBytes;
    }
    if (limits.maxQueuedBytes !== undefined) this.maxQueuedBytes = limits.maxQueuedBytes;
  }

  /** Tensor frames whose header is still to come land in buffers from `pool` (null: this connection's own pool). */
  setTensorPool(pool: ReceivePool | null): void {
    this.decoder.setTensorPool(pool);
  }

  send(msg: OutgoingMessage): Promise<void> {
    if (this.isClosed || this.ending) {
      return Promise.reject(new ConnectionClosedError(`cannot send to ${this.peer}: connection is closed`));
    }
    let f;
    try {
      f = encodeFrame(msg, this.maxFrameBytes);
    } catch (err) {
      return Promise.reject(err);
    }
    this.counters.countSent(f.meta.type, f.meta.label, f.frameBytes);
    const chunks = f.payload.byteLength === 0 ? [f.header] : [f.header, f.payload];
    return new Promise((resolve, reject) => {
      this.channel.write(chunks, (err) => {
        if (err) reject(new ConnectionClosedError(`send to ${this.peer} failed: ${err.message}`));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (!this.ending && !this.destroyed) {
      this.ending = true;
      this.fail(new ConnectionClosedError(`connection to ${this.peer} was closed locally`));
      this.channel.end();
      setTimeout(() => this.channel.destroy(), 5000).unref();
    }
    return this.closed.then(() => undefined);
  }

  destroy(reason?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (reason) {
      this.fail(reason);
      this.closeReasonOverride ??= reason;
    } else {
      this.fail(new ConnectionClosedError(`connection to ${this.peer} was destroyed locally`));
    }
    this.channel.destroy();
  }

  protected pauseSource(): void {
    this.channel.pause();
  }

  protected resumeSource(): void {
    this.channel.resume();
  }
}
