/**
 * The worker role as a long-running service (`goten worker`): listens on its
 * configured port, and for each session accepts the topology's enclave(s),
 * runs the AKE as responder (only the pinned enclave keys are accepted),
 * receives its seed bundle from e0, then serves op requests until the
 * enclaves leave. A failed or malicious connection ends that session with a
 * clear log line; the worker keeps listening for the next one (unless `once`).
 */
import type { Backend } from '../backend/backend.js';
import { listenAsParty, transportFor } from '../net/cluster.js';
import { type ClusterConfig, partyConfig } from '../net/cluster-config.js';
import type { Identity } from '../net/identity.js';
import { samePublicKey } from '../net/identity.js';
import { DEFAULT_MAX_QUEUED_BYTES } from '../net/connection.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../net/frame.js';
import { MsgType } from '../net/message-types.js';
import type { Connection, Listener, Transport } from '../net/transport.js';
import { performHandshake, receiveSeedBundle } from '../protocol/key-schedule.js';
import { SESSION_CONTEXT } from './session.js';
import { type WorkerKeys, type WorkerParty, WorkerService } from './worker-service.js';

/** Receive limits for connections that have not authenticated yet. */
export const PRE_AUTH_LIMITS = { maxFrameBytes: 64 * 1024, maxQueuedBytes: 1024 * 1024 } as const;

export interface WorkerRoleOptions {
  readonly config: ClusterConfig;
  readonly party: WorkerParty;
  readonly identity: Identity;
  readonly backend: Backend;
  /** Serve one session, then return. */
  readonly once?: boolean;
  readonly transport?: Transport;
  /** Progress/diagnostic lines (never tensor contents or keys). */
  readonly log?: (line: string) => void;
  /** Called once the listener is bound. */
  readonly onListening?: (l: Listener) => void;
}

interface Joined {
  conn: Connection;
  enclave: 'e0' | 'e1';
  feeds: boolean;
  keys?: WorkerKeys;
}

/** Accepts one enclave connection and runs the session handshake on it. */
async function join(o: WorkerRoleOptions, conn: Connection): Promise<Joined> {
  const { config, identity, party } = o;
  const enclaveKeys = (['e0', 'e1'] as const).filter((e) => config.parties[e]).map((e) => partyConfig(config, e).publicKey);
  const hs = await performHandshake(conn, { self: identity, expectedPeer: enclaveKeys, role: 'responder', context: SESSION_CONTEXT });
  const enclave = samePublicKey(hs.peerPublicKey, partyConfig(config, 'e0').publicKey) ? 'e0' : 'e1';
  const hello = await conn.expect(MsgType.Control, { timeoutMs: 30_000 });
  const v = (hello.dtype === 'json' ? hello.value : null) as { kind?: unknown; enclave?: unknown; feeds?: unknown } | null;
  if (!v || v.kind !== 'hello' || v.enclave !== enclave || typeof v.feeds !== 'boolean') {
    const err = new Error(`enclave ${enclave} sent a malformed hello`);
    conn.destroy(err);
    throw err;
  }
  const joined: Joined = { conn, enclave, feeds: v.feeds };
  if (enclave === 'e0') joined.keys = (await receiveSeedBundle(conn, hs.sessionKey, party, { timeoutMs: 30_000 })).keys as WorkerKeys;
  return joined;
}

/** Runs the worker until `once` completes a session (or forever). */
export async function runWorker(o: WorkerRoleOptions): Promise<void> {
  const log = o.log ?? (() => {});
  const name = `w${o.party}`;
  const transport = o.transport ?? transportFor(o.config, o.identity);
  // Until a peer has passed the session handshake it may only send small frames
  // (handshake, hello, seed bundle) and queue little: a 20-byte header must not
  // make the worker reserve a large receive buffer for an unauthenticated peer.
  const listener = await listenAsParty(transport, o.config, name, {
    onError: (err) => log(`${name}: rejected a connection: ${err.message}`),
    ...PRE_AUTH_LIMITS,
  });
  o.onListening?.(listener);
  log(`${name}: listening on ${listener.host}:${listener.port} (${o.config.transport}, backend ${o.backend.name})`);
  const expected = (o.config.topology ?? 'single') === 'replicated' ? 2 : 1;
  try {
    for (;;) {
      const joined: Joined[] = [];
      while (joined.length < expected) {
        const conn = await listener.accept();
        try {
          const j = await join(o, conn);
          if (joined.some((x) => x.enclave === j.enclave)) throw new Error(`enclave ${j.enclave} joined twice`);
          conn.setReceiveLimits?.({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES });
          joined.push(j);
        } catch (err) {
          log(`${name}: session set-up failed: ${(err as Error).message}`);
          conn.destroy(err as Error);
        }
      }
      const keys = joined.find((j) => j.keys)?.keys;
      if (!keys) throw new Error(`${name}: no seed bundle received from e0`);
      const svc = new WorkerService(o.party, o.backend, keys);
      for (const j of joined) svc.addSubscriber(j.conn);
      const ends = await Promise.all(joined.filter((j) => j.feeds).map((j) => svc.serveFeeder(j.conn)));
      for (const j of joined) await j.conn.close().catch(() => {});
      const errors = ends.filter((e): e is Error => e !== null);
      log(
        `${name}: session ended after ${svc.stats.ops} ops, ${(svc.stats.busyMs / 1000).toFixed(1)} s computing` +
          (errors.length ? `; error: ${errors.map((e) => e.message).join('; ')}` : ''),
      );
      if (o.once) return;
    }
  } finally {
    await listener.close();
  }
}
