/**
 * In-process transport, for tests and single-process runs. Same interface,
 * same counters (frame bytes exactly as the codec would write them), three modes:
 *   - 'wire':  real encoder + decoder over an in-memory byte pipe (src/net/pipe.ts)
 *              cut into ≤ 64 KiB pieces — byte-for-byte what a socket would carry;
 *              the only mode that accepts raw bytes (`connectRaw`);
 *   - 'copy':  (default) message passing; each payload is copied into a pooled
 *              buffer on send, so sender and receiver never share memory;
 *   - 'share': message passing without a copy — the receiver gets a view of the
 *              SENDER's array (fastest; only for code that never mutates sent data).
 * Listeners live in an InprocNetwork keyed by "host:port" (port 0 picks a free one).
 */
import { BaseConnection } from './connection.js';
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, tensorElements, type OutgoingMessage, type ReceivedMessage } from './frame.js';
import { AcceptQueue } from './listener.js';
import { bytePipe } from './pipe.js';
import { defaultPool, type BufferPool, type ReceivePool } from './pool.js';
import { StreamConnection, type ByteChannel } from './stream.js';
import {
  ConnectionClosedError,
  type CommonOptions,
  type ConnectOptions,
  type Connection,
  type ListenOptions,
  type Listener,
  type RecvOptions,
  type Transport,
} from './transport.js';

export type InprocMode = 'wire' | 'copy' | 'share';

const NOOP = (): void => {};

/** Receiver-side copy of an encoded frame, as the decoder would produce it. */
function materialize(msg: OutgoingMessage, frameBytes: number, payload: Uint8Array, copy: boolean, pool: ReceivePool): ReceivedMessage {
  const meta = { type: msg.type, opId: msg.opId ?? 0, label: msg.label ?? '', flags: msg.flags ?? 0, frameBytes };
  if (msg.dtype === 'json') {
    return { ...meta, dtype: 'json', dims: [], value: JSON.parse(Buffer.from(payload).toString('utf8')), release: NOOP };
  }
  const dims = [...(msg.dims ?? [tensorElements(msg)])];
  let buffer = msg.data.buffer as ArrayBuffer;
  let offset = msg.data.byteOffset;
  let release = NOOP;
  if (copy && payload.byteLength > 0) {
    const lease = pool.acquire(payload.byteLength);
    new Uint8Array(lease.buffer, 0, payload.byteLength).set(payload);
    buffer = lease.buffer;
    offset = 0;
    release = lease.release;
  }
  const n = msg.data.length;
  if (msg.dtype === 'int32') return { ...meta, dtype: 'int32', dims, data: new Int32Array(buffer, offset, n), release };
  if (msg.dtype === 'float32') return { ...meta, dtype: 'float32', dims, data: new Float32Array(buffer, offset, n), release };
  return { ...meta, dtype: msg.dtype, dims, data: new Uint8Array(buffer, offset, n), release }; // uint8 and int24 (packed bytes)
}

/** One end of a message-passing pair ('copy' and 'share' modes). */
class MessageConnection extends BaseConnection {
  other!: MessageConnection;
  private shut = false;
  /** Where copies of tensor frames sent to this end land instead of `pool`, when set (setTensorPool). */
  private tensorPool: ReceivePool | null = null;

  constructor(
    peer: string,
    private readonly copy: boolean,
    private readonly maxFrameBytes: number,
    private readonly pool: BufferPool,
  ) {
    super(peer, undefined);
  }

  send(msg: OutgoingMessage): Promise<void> {
    if (this.shut || this.isClosed) return Promise.reject(new ConnectionClosedError(`cannot send to ${this.peer}: connection is closed`));
    let received: ReceivedMessage;
    try {
      const f = encodeFrame(msg, this.maxFrameBytes);
      received = materialize(msg, f.frameBytes, f.payload, this.copy, this.other.receivePool);
      this.counters.countSent(f.meta.type, f.meta.label, f.frameBytes);
    } catch (err) {
      return Promise.reject(err);
    }
    const other = this.other;
    return new Promise((resolve) => setImmediate(() => (other.deliver(received), resolve())));
  }

  /** 'copy' mode: received tensor frames are copied into buffers from `pool` (null: the connection's own pool). */
  setTensorPool(pool: ReceivePool | null): void {
    this.tensorPool = pool;
  }

  private get receivePool(): ReceivePool {
    return this.tensorPool ?? this.pool;
  }

  /** FIN from the other end (after everything it sent before). */
  private remoteEnded(err: Error | null): void {
    this.fail(new ConnectionClosedError(`${this.peer} closed the connection`));
    this.shut = true;
    this.finish(err);
  }

  private shutdown(reason: Error | null): void {
    if (this.shut) return;
    this.shut = true;
    this.fail(reason ?? new ConnectionClosedError(`connection to ${this.peer} was closed locally`));
    const other = this.other;
    setImmediate(() => {
      other.remoteEnded(null);
      this.finish(reason);
    });
  }

  close(): Promise<void> {
    this.shutdown(null);
    return this.closed.then(() => undefined);
  }

  destroy(reason?: Error): void {
    this.shutdown(reason ?? null);
  }

  protected pauseSource(): void {}
  protected resumeSource(): void {}
}

class InprocListener implements Listener {
  readonly queue: AcceptQueue;
  constructor(
    private readonly network: InprocNetwork,
    readonly host: string,
    readonly port: number,
    readonly opts: ListenOptions,
  ) {
    this.queue = new AcceptQueue(`inproc ${host}:${port}`);
  }
  accept(opts?: RecvOptions): Promise<Connection> {
    return this.queue.accept(opts);
  }
  async close(): Promise<void> {
    this.queue.close();
    this.network.listeners.delete(`${this.host}:${this.port}`);
  }
}

/** A namespace of in-process listeners. */
export class InprocNetwork {
  readonly listeners = new Map<string, InprocListener>();
  private nextPort = 40000;
  private nextClient = 1;

  register(opts: ListenOptions): InprocListener {
    const host = opts.host ?? 'inproc';
    let port = opts.port ?? 0;
    if (port === 0) while (this.listeners.has(`${host}:${(port = this.nextPort++)}`));
    const key = `${host}:${port}`;
    if (this.listeners.has(key)) throw new ConnectionClosedError(`inproc address ${key} is already in use`);
    const l = new InprocListener(this, host, port, opts);
    this.listeners.set(key, l);
    return l;
  }

  lookup(host: string, port: number): InprocListener {
    const l = this.listeners.get(`${host}:${port}`);
    if (!l) throw new ConnectionClosedError(`cannot connect to inproc ${host}:${port}: nothing listens there`);
    return l;
  }

  clientName(): string {
    return `inproc-client#${this.nextClient++}`;
  }
}

/** The process-wide default in-process network. */
export const defaultInprocNetwork = new InprocNetwork();

export class InprocTransport implements Transport {
  readonly kind = 'inproc' as const;
  constructor(
    readonly mode: InprocMode = 'copy',
    readonly network: InprocNetwork = defaultInprocNetwork,
  ) {}

  async listen(opts: ListenOptions = {}): Promise<Listener> {
    return this.network.register(opts);
  }

  async connect(opts: ConnectOptions): Promise<Connection> {
    const l = this.network.lookup(opts.host, opts.port);
    const serverPeer = this.network.clientName();
    const clientPeer = opts.peer ?? `inproc:${opts.host}:${opts.port}`;
    if (this.mode === 'wire') {
      const [a, b] = bytePipe();
      l.queue.push(new StreamConnection(b, { ...streamOpts(l.opts), peer: serverPeer }));
      return new StreamConnection(a, { ...streamOpts(opts), peer: clientPeer });
    }
    const copy = this.mode === 'copy';
    const client = new MessageConnection(clientPeer, copy, opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, opts.pool ?? defaultPool);
    const server = new MessageConnection(serverPeer, copy, l.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, l.opts.pool ?? defaultPool);
    client.other = server;
    server.other = client;
    l.queue.push(server);
    return client;
  }

  /** A raw byte channel to a listener ('wire' mode only): for codec tests. */
  async connectRaw(host: string, port: number): Promise<ByteChannel> {
    const l = this.network.lookup(host, port);
    const [a, b] = bytePipe();
    l.queue.push(new StreamConnection(b, { ...streamOpts(l.opts), peer: this.network.clientName() }));
    return a;
  }
}

function streamOpts(o: CommonOptions): CommonOptions {
  return { maxFrameBytes: o.maxFrameBytes, pool: o.pool, maxQueuedBytes: o.maxQueuedBytes };
}

/** An in-process transport (default mode 'copy', default network). */
export function inprocTransport(mode: InprocMode = 'copy', network?: InprocNetwork): InprocTransport {
  return new InprocTransport(mode, network);
}
