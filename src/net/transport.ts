/**
 * The Transport / Connection interface: framed messages between two parties.
 *
 * Implementations (all run the conformance suite test/net/transport-conformance.ts):
 *   - tcp     (src/net/tcp.ts): node:net, setNoDelay, no authentication or
 *              encryption — for loopback, benchmarks and one-time-padded bulk traffic;
 *   - tls     (src/net/tls.ts): TLS 1.3, mutual authentication by Ed25519 keys
 *              pinned in the cluster config;
 *   - inproc  (src/net/inproc.ts): same process, for tests; 'wire' mode runs the
 *              real codec over an in-memory byte pipe, 'copy' mode passes copies.
 *
 * Semantics common to all:
 *   - Frames are delivered in order, each exactly once, to `recv()`.
 *   - `send(msg)` resolves when the frame has been handed to the OS (or to the
 *     peer's queue in-process); the payload is NOT copied before that, so do not
 *     modify a sent typed array until its send() has resolved.
 *   - A received tensor lives in a pooled buffer: call `release()` when done
 *     (see ReceivedMessage in src/net/frame.ts).
 *   - Any malformed frame (FrameError), a protocol violation in `expect`, an
 *     authentication failure or an Error frame from the peer closes the
 *     connection: pending and later `recv()`s reject with that error (after the
 *     frames that arrived before it), `closed` resolves with it, and the process
 *     and every other connection carry on. On a malformed frame the receiver
 *     first sends the peer an Error frame {code, message} (best effort).
 *   - Counters: see src/net/counters.ts (frame bytes and send→receive rounds, per
 *     message type and per op label; one TrafficCounters per connection = per peer).
 */
import type { TrafficCounters } from './counters.js';
import type { OutgoingMessage, ReceivedMessage } from './frame.js';
import type { BufferPool, ReceivePool } from './pool.js';

export type { OutgoingMessage, ReceivedMessage } from './frame.js';

export interface RecvOptions {
  /** Reject with TimeoutError (and keep the connection open) after this long. */
  timeoutMs?: number;
}

export interface ExpectOptions extends RecvOptions {
  /** Also require this op id. */
  opId?: number;
  /** Also require this op label. */
  label?: string;
}

export interface Connection {
  /** Who is on the other side: the pinned party name (tls) or a descriptive name. */
  readonly peer: string;
  /** The peer's "ed25519:…" key when the transport authenticated it (tls), else undefined. */
  readonly peerPublicKey: string | undefined;
  /** This connection's traffic counters. */
  readonly counters: TrafficCounters;
  /** Queue one frame for sending (see the payload lifetime rule above). */
  send(msg: OutgoingMessage): Promise<void>;
  /** Next received frame, in order. Rejects once the connection has closed and the queue is empty. */
  recv(opts?: RecvOptions): Promise<ReceivedMessage>;
  /**
   * Next received frame, which must have this type (and opId/label if given);
   * anything else is a protocol violation: the connection is closed with an
   * UnexpectedMessageError, which is also what this rejects with.
   */
  expect(type: number, opts?: ExpectOptions): Promise<ReceivedMessage>;
  /**
   * Optional (stream transports): change the receive limits from now on, e.g.
   * raise them once an unauthenticated peer has passed the handshake.
   */
  setReceiveLimits?(limits: { maxFrameBytes?: number; maxQueuedBytes?: number }): void;
  /**
   * Optional: close the connection (TimeoutError) when nothing, not even a Keepalive frame, arrives
   * for `ms` (0: never, the default).
   */
  setIdleTimeout?(ms: number): void;
  /**
   * Optional (stream transports and inproc 'copy'): tensor frames received from now on land in buffers
   * from `pool` instead of the connection's own pool (JSON frames keep it); null switches back. The
   * enclave installs its budgeted pool here in managed memory mode (docs/memory.md).
   */
  setTensorPool?(pool: ReceivePool | null): void;
  /** Graceful close: flush queued sends, then close. Resolves once closed. */
  close(): Promise<void>;
  /** Abort now (queued sends are dropped). */
  destroy(reason?: Error): void;
  /** Resolves once closed: null for a clean close (either side), else the error. */
  readonly closed: Promise<Error | null>;
  readonly isClosed: boolean;
}

export interface Listener {
  /** Bound host and port (inproc: its registry name and a port number). */
  readonly host: string;
  readonly port: number;
  /** Next accepted (and, for tls, authenticated) connection. */
  accept(opts?: RecvOptions): Promise<Connection>;
  /** Stop accepting; connections already accepted stay open. */
  close(): Promise<void>;
}

export interface CommonOptions {
  /** Largest frame accepted or sent (header + payload), default 256 MiB. */
  maxFrameBytes?: number;
  /** Receive-buffer pool (default: the process-wide one). */
  pool?: BufferPool;
  /** Pause reading from a peer whose unconsumed frames exceed this many bytes (default 1 GiB). */
  maxQueuedBytes?: number;
}

export interface ListenOptions extends CommonOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** tls: the party names allowed to connect (default: every pinned party except self). */
  acceptPeers?: readonly string[];
  /** Called for connections that failed before being accepted (authentication, TLS errors). */
  onError?: (err: Error) => void;
  /** tls: how long a client may take to complete the TLS handshake (default 10 s). */
  handshakeTimeoutMs?: number;
}

export interface ConnectOptions extends CommonOptions {
  host: string;
  port: number;
  /** tls: the party name (in the pinned set) the server must prove to be. Others: a label. */
  peer?: string;
  /** Give up connecting (and authenticating) after this long; default 10 s. */
  timeoutMs?: number;
}

export interface Transport {
  readonly kind: 'tcp' | 'tls' | 'inproc';
  listen(opts?: ListenOptions): Promise<Listener>;
  connect(opts: ConnectOptions): Promise<Connection>;
}

// ---- errors ------------------------------------------------------------------------

/** The connection is closed (locally or by the peer) and no frame is left to read. */
export class ConnectionClosedError extends Error {
  override name = 'ConnectionClosedError';
  /** The system error code behind it, when there is one (e.g. 'ECONNREFUSED', 'ECONNRESET'). */
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

/** The peer closed the connection with an Error frame. */
export class PeerError extends Error {
  override name = 'PeerError';
  constructor(
    readonly peer: string,
    readonly code: string,
    readonly peerMessage: string,
  ) {
    super(`peer ${peer} reported ${code}: ${peerMessage}`);
  }
}

/** expect() received another message than the protocol requires. */
export class UnexpectedMessageError extends Error {
  override name = 'UnexpectedMessageError';
}

/** A recv/accept/connect deadline passed. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** The peer is not who the pinned configuration says it must be. */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
}
