/**
 * TLS 1.3 transport with MUTUAL authentication by pinned Ed25519 keys.
 *
 * Every party presents a self-signed certificate for its identity key
 * (src/net/x509.ts). Certificates are not validated against any CA, name or
 * date: instead each side checks that the key in the peer's certificate is the
 * one the cluster config pins for the party it expects. The TLS handshake itself
 * (CertificateVerify) proves the peer holds the matching private key.
 *
 * Connection establishment:
 *   1. TLS 1.3 handshake; the server requests a client certificate.
 *   2. Client: the server's key must equal pinned[opts.peer], else the client
 *      aborts with AuthenticationError. No application data is sent before this.
 *   3. Server: the client's key must equal the key of one of `acceptPeers`; if
 *      not, it sends an Error frame {code: "UNAUTHENTICATED"} and closes (and
 *      reports the AuthenticationError to `onError`); if so it sends a Hello
 *      frame {party: <server name>, version: 1} and the connection is accepted.
 *   4. connect() resolves only after the Hello, so a client learns of its
 *      rejection as an AuthenticationError from connect() itself.
 * Application frames then flow as on TCP. Only TLS_AES_*_GCM / CHACHA20 suites
 * of TLS 1.3 are possible (minVersion = maxVersion = TLSv1.3).
 */
import type { KeyObject } from 'node:crypto';
import { connect as tlsConnect, createServer, type TLSSocket } from 'node:tls';
import { encodeFrame } from './frame.js';
import { publicKeyToText, tlsCredentials, toPublicKey, type Identity } from './identity.js';
import { deadline, AcceptQueue, ServerListener } from './listener.js';
import { MsgType } from './message-types.js';
import { StreamConnection, socketChannel } from './stream.js';
import { listenServer } from './tcp.js';
import {
  AuthenticationError,
  ConnectionClosedError,
  PeerError,
  type ConnectOptions,
  type Connection,
  type ListenOptions,
  type Listener,
  type Transport,
} from './transport.js';

const DEFAULT_TIMEOUT_MS = 10_000;

export interface TlsTransportOptions {
  /** This party's identity (its key signs our certificate). */
  identity: Identity;
  /** Pinned public keys by party name (from the cluster config). */
  peers: Readonly<Record<string, KeyObject | string>>;
}

export class TlsTransport implements Transport {
  readonly kind = 'tls' as const;
  private readonly pinned = new Map<string, KeyObject>();

  constructor(private readonly opts: TlsTransportOptions) {
    for (const [name, key] of Object.entries(opts.peers)) this.pinned.set(name, toPublicKey(key));
  }

  /** The pinned party whose key this is, among `names`. */
  private whoIs(key: KeyObject, names: readonly string[]): string | undefined {
    return names.find((n) => this.pinned.get(n)?.equals(key));
  }

  async listen(opts: ListenOptions = {}): Promise<Listener> {
    const self = this.opts.identity;
    const accept = opts.acceptPeers ?? [...this.pinned.keys()].filter((n) => n !== self.name);
    for (const n of accept) if (!this.pinned.has(n)) throw new AuthenticationError(`acceptPeers names "${n}", which has no pinned key`);
    const { key, cert } = tlsCredentials(self);
    const host = opts.host ?? '127.0.0.1';
    const queue = new AcceptQueue(`tls ${host}:${opts.port ?? 0}`);
    const server = createServer({
      key,
      cert,
      requestCert: true,
      rejectUnauthorized: false, // self-signed: we pin keys ourselves below
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      handshakeTimeout: opts.handshakeTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    server.on('secureConnection', (sock: TLSSocket) => {
      sock.setNoDelay(true);
      const from = `${sock.remoteAddress}:${sock.remotePort}`;
      const peerKey = sock.getPeerX509Certificate()?.publicKey;
      const who = peerKey && peerKey.asymmetricKeyType === 'ed25519' ? this.whoIs(peerKey, accept) : undefined;
      if (!who) {
        const shown = peerKey?.asymmetricKeyType === 'ed25519' ? publicKeyToText(peerKey) : peerKey ? `a ${peerKey.asymmetricKeyType} key` : 'no certificate';
        const err = new AuthenticationError(`rejected TLS client ${from}: its key (${shown}) is not pinned for any of [${accept.join(', ')}]`);
        const f = encodeFrame({ type: MsgType.Error, dtype: 'json', value: { code: 'UNAUTHENTICATED', message: `${self.name} does not accept your key` } });
        sock.on('error', () => {});
        sock.end(Buffer.concat([f.header, f.payload]));
        setTimeout(() => sock.destroy(), 1000).unref();
        opts.onError?.(err);
        return;
      }
      const conn = new StreamConnection(socketChannel(sock), {
        peer: who,
        peerPublicKey: publicKeyToText(peerKey as KeyObject),
        maxFrameBytes: opts.maxFrameBytes,
        pool: opts.pool,
        maxQueuedBytes: opts.maxQueuedBytes,
      });
      conn.send({ type: MsgType.Hello, dtype: 'json', value: { party: self.name, version: 1 } }).then(
        () => queue.push(conn),
        (e: Error) => opts.onError?.(new ConnectionClosedError(`TLS client ${who} (${from}) left before Hello: ${e.message}`)),
      );
    });
    server.on('tlsClientError', (err, sock) => {
      // node:tls reports a failed or timed-out handshake but leaves the socket open:
      // silent clients would otherwise keep their file descriptors forever
      sock.destroy();
      opts.onError?.(new AuthenticationError(`TLS handshake failed: ${err.message}`));
    });
    server.on('error', (err) => opts.onError?.(err));
    const bound = await listenServer(server, host, opts.port ?? 0);
    return new ServerListener(server, queue, bound.host, bound.port);
  }

  async connect(opts: ConnectOptions): Promise<Connection> {
    const peer = opts.peer;
    if (peer === undefined) throw new AuthenticationError('tls connect needs opts.peer: the pinned party name to expect');
    const expected = this.pinned.get(peer);
    if (!expected) throw new AuthenticationError(`no pinned key for party "${peer}" in the cluster config`);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const where = `${peer} at ${opts.host}:${opts.port}`;
    const { key, cert } = tlsCredentials(this.opts.identity);
    const limit = deadline(timeoutMs, `TLS connection to ${where}`);
    let sock: TLSSocket | undefined;
    try {
      sock = await Promise.race([
        limit.promise,
        new Promise<TLSSocket>((resolve, reject) => {
          const s = tlsConnect({
            host: opts.host,
            port: opts.port,
            key,
            cert,
            rejectUnauthorized: false, // we pin the key ourselves, below
            minVersion: 'TLSv1.3',
            maxVersion: 'TLSv1.3',
          });
          sock = s;
          s.once('secureConnect', () => resolve(s));
          s.on('error', (err) => reject(new ConnectionClosedError(`cannot connect to ${where}: ${err.message}`, (err as NodeJS.ErrnoException).code)));
        }),
      ]);
      sock.setNoDelay(true);
      const got = sock.getPeerX509Certificate()?.publicKey;
      if (!got || !got.equals(expected)) {
        const shown = got?.asymmetricKeyType === 'ed25519' ? publicKeyToText(got) : 'a non-Ed25519 or missing key';
        throw new AuthenticationError(`server ${where} presented ${shown}, but the cluster config pins ${publicKeyToText(expected)}`);
      }
      const conn = new StreamConnection(socketChannel(sock), {
        peer,
        peerPublicKey: publicKeyToText(expected),
        maxFrameBytes: opts.maxFrameBytes,
        pool: opts.pool,
        maxQueuedBytes: opts.maxQueuedBytes,
      });
      try {
        const hello = await Promise.race([limit.promise, conn.expect(MsgType.Hello)]);
        hello.release();
      } catch (err) {
        conn.destroy();
        if (err instanceof PeerError) throw new AuthenticationError(`${where} rejected this party (${this.opts.identity.name}): ${err.peerMessage}`);
        throw err;
      }
      return conn;
    } catch (err) {
      sock?.destroy();
      throw err;
    } finally {
      limit.cancel();
    }
  }
}

/** A TLS transport for `identity` that accepts/expects the pinned `peers`. */
export function tlsTransport(opts: TlsTransportOptions): Transport {
  return new TlsTransport(opts);
}
