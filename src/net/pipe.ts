/**
 * An in-memory, ordered, asynchronous byte pipe: two ByteChannel ends that
 * behave like the two ends of a loopback socket. Every written chunk is copied
 * (the writer may reuse its memory once `done` fires, as with a socket) and
 * re-cut into pieces of at most `maxChunkBytes`, delivered from setImmediate.
 * end() is a FIN: the other end sees `end` after the data written before it; an
 * end closes once it has both sent and received an end, or on destroy (which
 * also sends the FIN).
 */
import type { ByteChannel } from './stream.js';
import { ConnectionClosedError } from './transport.js';

type Handlers = Parameters<ByteChannel['start']>[0];
const END = Symbol('end');

class PipeEnd implements ByteChannel {
  other!: PipeEnd;
  private handlers: Handlers | null = null;
  private readonly inbox: (Uint8Array | typeof END)[] = [];
  private paused = false;
  private scheduled = false;
  private sentEnd = false;
  private gotEnd = false;
  private closed = false;

  constructor(private readonly maxChunkBytes: number) {}

  start(h: Handlers): void {
    this.handlers = h;
    this.schedule();
  }

  write(chunks: readonly Uint8Array[], done: (err?: Error | null) => void): void {
    if (this.closed || this.sentEnd) {
      setImmediate(() => done(new ConnectionClosedError('pipe is closed for writing')));
      return;
    }
    for (const c of chunks) {
      for (let o = 0; o < c.byteLength; o += this.maxChunkBytes) {
        this.other.enqueue(Buffer.from(c.subarray(o, Math.min(c.byteLength, o + this.maxChunkBytes))));
      }
    }
    setImmediate(() => done(null));
  }

  private enqueue(item: Uint8Array | typeof END): void {
    if (this.closed) return;
    this.inbox.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.paused || !this.handlers || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const h = this.handlers;
    if (!h) return;
    while (!this.paused && !this.closed && this.inbox.length > 0) {
      const item = this.inbox.shift() as Uint8Array | typeof END;
      if (item === END) {
        this.gotEnd = true;
        h.end();
        if (this.sentEnd) this.close();
      } else {
        h.data(item);
      }
    }
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  end(): void {
    if (this.sentEnd || this.closed) return;
    this.sentEnd = true;
    this.other.enqueue(END);
    if (this.gotEnd) setImmediate(() => this.close());
  }

  destroy(err?: Error): void {
    if (this.closed) return;
    if (!this.sentEnd) {
      this.sentEnd = true;
      this.other.enqueue(END);
    }
    this.close(err);
  }

  private close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.length = 0;
    const h = this.handlers;
    setImmediate(() => h?.close(err));
  }
}

/** Two connected ends of an in-memory byte pipe. */
export function bytePipe(maxChunkBytes = 64 * 1024): [ByteChannel, ByteChannel] {
  const a = new PipeEnd(maxChunkBytes);
  const b = new PipeEnd(maxChunkBytes);
  a.other = b;
  b.other = a;
  return [a, b];
}
