/**
 * Session set-up between enclave(s) and workers over a cluster config
 * (docs/net.md, docs/protocol.md): authenticated connections, the AKE, the key
 * schedule and a hello that tells each worker whom it serves and how.
 *
 *   enclave e0 (and e1)                         worker wi
 *   connect (TLS with pinned keys, or TCP) ───▶ accept
 *   AKE initiator (signed X25519 + HKDF)   ◀──▶ AKE responder (accepts the pinned e0/e1 keys)
 *   Control {kind:'hello', enclave, feeds,  ───▶ records feeder / subscriber
 *            topology, protocol, workers, session}
 *   SeedBundle (e0 only, sealed)           ───▶ the worker's keys for that protocol, nothing more
 *   (waits for it before any op)           ◀─── Control {kind:'admitted'}: receive limits raised
 *
 * Lean protocol: the workers then link up among themselves (roles/worker.ts): w0 and,
 * online, w2 connect to w1, run the AKE with the pinned worker keys and name the session
 * (w1 answers {kind:'admitted'} too before they relay anything).
 * The session id (16 bytes, hex) is derived from the master secret, so both replicas
 * send the same one; it only ties the links to the session, it protects nothing.
 *
 * Replicated topology: e1 connects to e0 first; after their AKE, e0 sends the
 * random master secret sealed under the pairwise key; both derive every
 * stream key from it (protocol/key-schedule.ts).
 */
import { hkdfSync } from 'node:crypto';
import { connectWithRetry, listenAsParty, transportFor } from '../net/cluster.js';
import { type ClusterConfig, partyConfig } from '../net/cluster-config.js';
import type { Identity } from '../net/identity.js';
import { MsgType } from '../net/message-types.js';
import type { Connection, Transport } from '../net/transport.js';
import {
  deriveStreamKeys,
  generateMasterSecret,
  performHandshake,
  receiveMasterSecret,
  seedBundleFor,
  sendMasterSecret,
  sendSeedBundle,
} from '../protocol/key-schedule.js';
import { ProductVerifier, type VerifyMode } from '../protocol/product-verifier.js';
import { feedsFor } from '../protocol/feeds.js';
import { SecureExecutor } from '../protocol/secure-executor.js';
import { expectAdmitted } from './admission.js';
import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/index.js';
import { enclaveKernels } from '../protocol/enclave-kernels.js';
import { OfflineMaskSource } from '../protocol/offline-masks.js';
import { DEFAULT_PROTOCOL, type ProtocolName } from '../protocol/variant.js';
import type { UntrustedBacking } from '../tee/chunk-store.js';
import { keepAlive } from './keepalive.js';
import { DEFAULT_RECONNECT_TIMEOUT_MS, reconnecting } from './reconnect.js';
import { type Recovery, type SessionParts, WorkerLostError } from '../protocol/recovery.js';
import type { MaskKeys } from '../protocol/op-streams.js';

export const SESSION_CONTEXT = 'goten/session/v1';
/**
 * How long the enclave waits for a worker's answer to one op, unless told otherwise (--op-timeout). The
 * largest op of the built-in models takes a few seconds on a slow worker; a stalled worker must not
 * hold the run for long.
 */
export const DEFAULT_OP_TIMEOUT_MS = 60_000;
export const REPLICA_CONTEXT = 'goten/replicas/v1';
/** A worker must finish the AKE within this (a stalled one accepts the TCP connection and says nothing). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface EnclaveSessionOptions {
  /** Default lean. */
  readonly protocol?: ProtocolName;
  readonly config: ClusterConfig;
  readonly self: 'e0' | 'e1';
  readonly identity: Identity;
  readonly noiseKey: Uint8Array;
  /** How long to keep retrying connections to parties that are still starting (ms). */
  readonly connectTimeoutMs?: number;
  /** Per-result timeout of the executor (ms). */
  readonly opTimeoutMs?: number;
  readonly transport?: Transport;
  /** 3 (online: worker 2 computes Z') or 2 (offline: this enclave precomputes Z̃; w2 is not contacted). Default 3. */
  readonly workers?: 2 | 3;
  /** Offline mode: the enclave's own backend for f(U, V) (default auto); also the verifier's. */
  readonly enclaveBackend?: Backend;
  /** Verified products (product-verifier.ts; default off). */
  readonly verify?: VerifyMode;
  /** Offline mode: untrusted storage for the sealed mask products (default: host memory). */
  readonly offlineBacking?: UntrustedBacking;
  /** Keepalive interval on idle worker connections (ms, default roles/keepalive.ts). */
  readonly keepaliveMs?: number;
  /**
   * How long to wait for a lost worker to come back before the run stops (ms, default
   * roles/reconnect.ts); 0: no recovery, a lost worker ends the op with its error (as the replicated
   * topology always does).
   */
  readonly reconnectTimeoutMs?: number;
  /** Ops smaller than this (√(a·b·c)) are computed in the enclave (protocol/local-attempt.ts); default 0, none. */
  readonly localBelow?: number;
  /** Progress lines (a lost worker, reconnection attempts); never keys or tensors. */
  readonly log?: (line: string) => void;
  /** A worker was lost (before reconnecting): a local cluster's launcher restarts it (roles/launcher.ts). */
  readonly onWorkerLost?: (party: string, timedOut: boolean) => void;
}

/** What an enclave tells each worker after the AKE. */
export interface SessionHello {
  readonly kind: 'hello';
  readonly enclave: 'e0' | 'e1';
  /** Whether this enclave sends the worker its op requests (else it only receives results). */
  readonly feeds: boolean;
  readonly topology: 'single' | 'replicated';
  readonly protocol: ProtocolName;
  /** 3 online, 2 offline (no worker 2). */
  readonly workers: 2 | 3;
  /** Ties the lean workers' links to this session (hex). */
  readonly session: string;
  /** The role this worker plays in this session (a spare may play any). */
  readonly role: 0 | 1 | 2;
  /**
   * Which configured party plays each role (w0, w1 and, online, w2: a worker or a spare): lean links
   * dial the party that plays w1, and w1 accepts links only from the parties playing w0 and w2.
   */
  readonly roster: Roster;
}

/** Role → configured party (e.g. { w0: 's0', w1: 'w1', w2: 'w2' } after s0 replaced w0). */
export type Roster = { readonly w0: string; readonly w1: string; readonly w2?: string };

/** The session id both replicas derive from the master secret (public, pseudorandom). */
export function sessionId(master: Uint8Array): string {
  return Buffer.from(hkdfSync('sha256', master, 'goten/session-id/v1', 'session', 16)).toString('hex');
}

/** Enclave side: returns a ready SecureExecutor (and owns its connections). */
export async function openEnclaveSession(o: EnclaveSessionOptions): Promise<SecureExecutor> {
  const { config, self, identity } = o;
  const topology = config.topology ?? 'single';
  if (topology === 'single' && self !== 'e0') throw new Error('the single topology has one enclave, e0');
  const nWorkers = o.workers ?? 3;
  if (nWorkers === 3 && !config.parties.w2) throw new Error(`${config.source}: online mode needs worker w2 (or use 2 workers, offline mode)`);
  const t = o.transport ?? transportFor(config, identity);
  const deadline = Date.now() + (o.connectTimeoutMs ?? 30_000);
  const opened: Connection[] = [];
  try {
    // 1. replicas agree on the master secret
    let replica: Connection | undefined;
    let master: Uint8Array;
    if (topology === 'replicated') {
      if (self === 'e0') {
        const l = await listenAsParty(t, config, 'e0');
        replica = await l.accept({ timeoutMs: Math.max(1000, deadline - Date.now()) });
        // not awaited: server.close() resolves only when every connection has ended, i.e. after the session
        void l.close().catch(() => {});
      } else {
        replica = await connectWithRetry(t, config, 'e0', deadline);
      }
      opened.push(replica);
      const other = self === 'e0' ? 'e1' : 'e0';
      const hs = await performHandshake(replica, {
        self: identity,
        expectedPeer: partyConfig(config, other).publicKey,
        role: self === 'e1' ? 'initiator' : 'responder',
        context: REPLICA_CONTEXT,
      });
      if (self === 'e0') {
        master = generateMasterSecret();
        await sendMasterSecret(replica, hs.sessionKey, master);
      } else {
        master = await receiveMasterSecret(replica, hs.sessionKey);
      }
    } else {
      master = generateMasterSecret();
    }
    const protocol = o.protocol ?? DEFAULT_PROTOCOL;
    // one kernel set, shared by the executor and (offline) its mask source
    const kernels = enclaveKernels();
    // 2. every worker: connect, AKE, hello, seeds (e0 only)
    // who plays each role: the configured workers until a spare replaces one (never the other way back)
    const roster: { w0: string; w1: string; w2?: string } = nWorkers === 3 ? { w0: 'w0', w1: 'w1', w2: 'w2' } : { w0: 'w0', w1: 'w1' };
    const spares = Object.keys(config.spares);
    const log = o.log ?? (() => {});
    const first = await joinWorkers(o, t, master, deadline, deadline, opened, roster);
    master.fill(0);
    let stopKeepalive = () => {};
    const reconnectMs = o.reconnectTimeoutMs ?? DEFAULT_RECONNECT_TIMEOUT_MS;
    // the party the last try could not reach or authenticate: the one that did not come back (in the lean
    // protocol a stalled w0 is first reported as w1, whose aggregate waits for it)
    let unreachable: string | undefined;
    // a new session with every worker of the roster, waiting with back-off (roles/reconnect.ts)
    const rejoin = async (cause: Error, where: string, subject?: string) => {
      stopKeepalive();
      unreachable = undefined;
      const parts = await reconnecting(
        async (connectBy, end) => {
          const fresh = generateMasterSecret();
          try {
            return await joinWorkers(o, t, fresh, connectBy, end, [], roster, (p) => (unreachable = p));
          } finally {
            fresh.fill(0);
          }
        },
        cause,
        where,
        { timeoutMs: reconnectMs, log, subject },
      );
      stopKeepalive = keepAlive(parts.workers, o.keepaliveMs);
      return withMasks(parts);
    };
    // puts the next unused spare in `role`'s place for good: the party it replaces is never contacted again
    const takeSpare = (role: keyof Roster, why: string): string => {
      const spare = spares.shift()!;
      log(`${why}; replacing ${role}${roster[role] === role ? '' : ` (party ${roster[role]})`} with spare ${spare}`);
      roster[role] = spare;
      return `spare ${spare} in place of ${role}`;
    };
    const roleOf = (party: string) => (['w0', 'w1', 'w2'] as const).find((r) => roster[r] === party);
    const recovery: Recovery | undefined =
      topology === 'replicated'
        ? {
            // refused before the executor tears the session down: the op fails, the other links stay up
            refuse: (cause, replacing) =>
              new Error(
                replacing
                  ? `${cause.message} (spare ${spares[0]} not used: the replicated topology has no recovery; both replicas would have to agree on a new session; docs/net.md)`
                  : `${cause.message} (no recovery in the replicated topology: both replicas would have to agree on a new session; docs/net.md)`,
              ),
            reopen: (cause) => Promise.reject(cause),
            canReplace: () => spares.length > 0,
            replace: (cause) => Promise.reject(cause),
          }
        : reconnectMs > 0
          ? {
              reopen: async (cause, where) => {
                if (cause instanceof WorkerLostError) o.onWorkerLost?.(cause.party, cause.timedOut);
                try {
                  return await rejoin(cause, where);
                } catch (err) {
                  // a lost worker that did not come back within --reconnect-timeout: a spare takes its role
                  const lost = unreachable ?? (cause instanceof WorkerLostError ? cause.party : undefined);
                  const role = lost === undefined ? undefined : roleOf(lost);
                  if (!role || spares.length === 0) throw err;
                  const subject = takeSpare(role, `${lost} did not come back within ${reconnectMs / 1000} s at ${where}`);
                  return await rejoin(cause, where, subject);
                }
              },
              canReplace: () => spares.length > 0,
              replace: async (cause, role, where) => {
                const r = role as keyof Roster;
                if (!roster[r] || spares.length === 0) throw cause;
                const subject = takeSpare(r, `${role}'s result failed verification at ${where}`);
                return rejoin(cause, where, subject);
              },
            }
          : undefined;
    // the enclave's own products (offline masks, verification, local ops) run on its backend, resolved once when needed
    let backend: Backend | undefined;
    const enclaveBackend = (): Backend => (backend ??= o.enclaveBackend ?? getBackend('auto'));
    // offline: the mask source is tied to the session's keys; a new session gets a new one
    const withMasks = (p: Joined): SessionParts =>
      nWorkers === 2
        ? { ...p, maskSource: new OfflineMaskSource({ protocol, keys: p.keys, backend: enclaveBackend(), kernels, backing: o.offlineBacking }) }
        : p;
    const exec = new SecureExecutor({
      protocol,
      ...withMasks(first),
      kernels,
      feeds: feedsFor(protocol, topology, self),
      noiseKey: o.noiseKey,
      replica,
      timeoutMs: o.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS,
      verifier: o.verify && o.verify !== 'off' ? new ProductVerifier(enclaveBackend(), o.verify) : undefined,
      recovery,
      localBelow: o.localBelow,
      backend: o.localBelow ? enclaveBackend() : undefined,
    });
    // the workers end a session whose enclave falls silent (roles/worker.ts): show that this one is alive
    stopKeepalive = keepAlive(first.workers, o.keepaliveMs);
    const close = exec.close.bind(exec);
    exec.close = async () => {
      stopKeepalive();
      await close();
    };
    return exec;
  } catch (err) {
    for (const c of opened) c.destroy(err as Error);
    throw err;
  }
}

type Joined = { readonly workers: SessionParts['workers']; readonly keys: MaskKeys };

/**
 * Step 2 of a session, also every new session after a lost worker: each worker is reached (until
 * `connectBy`), authenticated with the AKE (bounded by `end`), told the session (hello) and, from e0,
 * given its seeds derived from `master`. `roster` names the party that plays each role (a spare may
 * play any). Opened connections go to `opened` (all destroyed on failure).
 */
async function joinWorkers(
  o: EnclaveSessionOptions,
  t: Transport,
  master: Uint8Array,
  connectBy: number,
  end: number,
  opened: Connection[],
  roster: Roster,
  /** Told the party being reached and authenticated (undefined once all have passed the AKE). */
  failedAt: (party: string | undefined) => void = () => {},
): Promise<Joined> {
  const { config, self, identity } = o;
  const topology = config.topology ?? 'single';
  const nWorkers = o.workers ?? 3;
  const protocol = o.protocol ?? DEFAULT_PROTOCOL;
  const feeds = feedsFor(protocol, topology, self);
  const keys = deriveStreamKeys(master);
  const session = sessionId(master);
  const workers: Connection[] = [];
  const indices = ([0, 1, 2] as const).slice(0, nWorkers);
  try {
    // every worker authenticated before any is told the session: a worker that is missing fails the
    // try before the others begin a session (and, lean, dial worker 1)
    const sessionKeys: Uint8Array[] = [];
    for (const w of indices) {
      const name = roster[`w${w}`]!;
      failedAt(name); // until it has passed the AKE
      const conn = await connectWithRetry(t, config, name, connectBy);
      opened.push(conn);
      workers.push(conn);
      const hs = await performHandshake(conn, {
        self: identity,
        expectedPeer: partyConfig(config, name).publicKey,
        role: 'initiator',
        context: SESSION_CONTEXT,
        timeoutMs: Math.min(HANDSHAKE_TIMEOUT_MS, Math.max(1000, end - Date.now())),
      });
      sessionKeys.push(hs.sessionKey);
    }
    failedAt(undefined);
    for (const w of indices) {
      const conn = workers[w];
      const fed = w === 0 ? feeds.w0 : w === 1 ? feeds.w1 : feeds.w2;
      const hello: SessionHello = { kind: 'hello', enclave: self, feeds: fed, topology, protocol, workers: nWorkers, session, role: w, roster: { ...roster } };
      await conn.send({ type: MsgType.Control, dtype: 'json', value: hello });
      if (self === 'e0') await sendSeedBundle(conn, sessionKeys[w], seedBundleFor(w, keys, protocol));
    }
    // nothing larger than a hello goes out before the worker has raised its limits (worker.ts, ADMITTED)
    for (const w of indices) await expectAdmitted(workers[w], Math.min(HANDSHAKE_TIMEOUT_MS, Math.max(1000, end - Date.now())));
  } catch (err) {
    for (const c of workers) c.destroy(err as Error);
    throw err;
  }
  return { workers: nWorkers === 3 ? [workers[0], workers[1], workers[2]] : [workers[0], workers[1]], keys };
}
