/**
 * Plain TCP transport (node:net, Nagle off). No authentication and no
 * encryption: use it on loopback, for benchmarks, or for links whose bulk
 * traffic is one-time padded and whose integrity is checked elsewhere
 * (docs/net.md, transports). Seeds still travel AEAD-protected under the AKE session key
 * (src/protocol/key-schedule.ts), which works over any Connection.
 */
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { AcceptQueue, ServerListener } from './listener.js';
import { ReadSink, StreamConnection, socketChannel } from './stream.js';
import {
  ConnectionClosedError,
  TimeoutError,
  type CommonOptions,
  type ConnectOptions,
  type Connection,
  type ListenOptions,
  type Listener,
  type Transport,
} from './transport.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

function wrapSocket(sock: Socket, peer: string, opts: CommonOptions, reads?: ReadSink): StreamConnection {
  sock.setNoDelay(true);
  return new StreamConnection(socketChannel(sock, reads), {
    peer,
    maxFrameBytes: opts.maxFrameBytes,
    pool: opts.pool,
    maxQueuedBytes: opts.maxQueuedBytes,
  });
}

/** Open a TCP socket; resolves once connected. With `reads`, the socket reads into one reused buffer (no allocation per read). */
export function openSocket(host: string, port: number, timeoutMs: number, reads?: ReadSink): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = netConnect({ host, port, noDelay: true, ...(reads ? { onread: reads.onread() } : {}) });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new TimeoutError(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(new ConnectionClosedError(`cannot connect to ${host}:${port}: ${err.message}`, (err as NodeJS.ErrnoException).code));
    });
  });
}

export function listenServer(
  server: Server,
  host: string,
  port: number,
): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      const a = server.address() as AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}

export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;

  async listen(opts: ListenOptions = {}): Promise<Listener> {
    const host = opts.host ?? '127.0.0.1';
    const queue = new AcceptQueue(`tcp ${host}:${opts.port ?? 0}`);
    const server = createServer({ noDelay: true }, (sock) => {
      queue.push(wrapSocket(sock, `${sock.remoteAddress}:${sock.remotePort}`, opts));
    });
    server.on('error', (err) => opts.onError?.(err));
    const bound = await listenServer(server, host, opts.port ?? 0);
    return new ServerListener(server, queue, bound.host, bound.port);
  }

  async connect(opts: ConnectOptions): Promise<Connection> {
    const reads = new ReadSink();
    const sock = await openSocket(opts.host, opts.port, opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, reads);
    return wrapSocket(sock, opts.peer ?? `${opts.host}:${opts.port}`, opts, reads);
  }
}

/** The TCP transport. */
export function tcpTransport(): Transport {
  return new TcpTransport();
}
