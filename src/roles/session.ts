/**
 * Session set-up between enclave(s) and workers over a cluster config
 * (DESIGN §2, §8): authenticated connections, the AKE, the key schedule and a
 * hello that tells each worker whom it serves.
 *
 *   enclave e0 (and e1)                         worker wi
 *   connect (TLS with pinned keys, or TCP) ───▶ accept
 *   AKE initiator (signed X25519 + HKDF)   ◀──▶ AKE responder (accepts e0/e1 keys only)
 *   Control {kind:'hello', enclave, feeds} ───▶ records feeder / subscriber
 *   SeedBundle (e0 only, sealed)           ───▶ the worker's keys, nothing more
 *
 * Replicated topology: e1 connects to e0 first; after their AKE, e0 sends the
 * random master secret sealed under the pairwise key; both derive every
 * stream key from it (protocol/key-schedule.ts).
 */
import { connectToParty, listenAsParty, transportFor } from '../net/cluster.js';
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
import { FEEDS_REPLICA0, FEEDS_REPLICA1, FEEDS_SINGLE, SecureExecutor } from '../protocol/secure-executor.js';
import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/index.js';
import { enclaveKernels } from '../protocol/enclave-kernels.js';
import { OfflineMaskSource } from '../protocol/offline-masks.js';
import type { UntrustedBacking } from '../tee/chunk-store.js';

export const SESSION_CONTEXT = 'goten/session/v1';
export const REPLICA_CONTEXT = 'goten/replicas/v1';

export interface EnclaveSessionOptions {
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
  /** Offline mode: the enclave's own backend for f(U, V) (default auto). */
  readonly enclaveBackend?: Backend;
  /** Offline mode: untrusted storage for the sealed mask products (default: host memory). */
  readonly offlineBacking?: UntrustedBacking;
}

/** Connects, retrying while the peer is not listening yet. */
async function connectWithRetry(t: Transport, config: ClusterConfig, party: string, deadline: number): Promise<Connection> {
  for (let delay = 50; ; delay = Math.min(1000, delay * 2)) {
    try {
      return await connectToParty(t, config, party, { timeoutMs: Math.max(1000, deadline - Date.now()) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const retryable = code === 'ECONNREFUSED' || /ECONNREFUSED|nothing listens/.test((err as Error).message);
      if (!retryable || Date.now() + delay > deadline) {
        const p = partyConfig(config, party);
        throw new Error(`cannot reach ${party} at ${p.host}:${p.port}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
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
    const keys = deriveStreamKeys(master);
    master.fill(0);
    const feeds = topology === 'single' ? FEEDS_SINGLE : self === 'e0' ? FEEDS_REPLICA0 : FEEDS_REPLICA1;
    // 2. every worker: connect, AKE, hello, seeds (e0 only)
    const workers: Connection[] = [];
    for (const w of ([0, 1, 2] as const).slice(0, nWorkers)) {
      const name = `w${w}`;
      const conn = await connectWithRetry(t, config, name, deadline);
      opened.push(conn);
      const hs = await performHandshake(conn, {
        self: identity,
        expectedPeer: partyConfig(config, name).publicKey,
        role: 'initiator',
        context: SESSION_CONTEXT,
      });
      const fed = w === 0 ? feeds.w0 : w === 1 ? feeds.w1 : feeds.w2;
      await conn.send({ type: MsgType.Control, dtype: 'json', value: { kind: 'hello', enclave: self, feeds: fed, topology } });
      if (self === 'e0') await sendSeedBundle(conn, hs.sessionKey, seedBundleFor(w, keys));
      workers.push(conn);
    }
    // one kernel set, shared by the executor and (offline) its mask source
    const kernels = enclaveKernels();
    return new SecureExecutor({
      workers: nWorkers === 3 ? [workers[0], workers[1], workers[2]] : [workers[0], workers[1]],
      maskSource: nWorkers === 2 ? new OfflineMaskSource({ keys, backend: o.enclaveBackend ?? getBackend('auto'), kernels, backing: o.offlineBacking }) : undefined,
      kernels,
      feeds,
      keys,
      noiseKey: o.noiseKey,
      replica,
      timeoutMs: o.opTimeoutMs ?? 300_000,
    });
  } catch (err) {
    for (const c of opened) c.destroy(err as Error);
    throw err;
  }
}
