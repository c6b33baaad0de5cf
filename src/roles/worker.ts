/**
 * The worker role as a long-running service (`goten worker`): listens on its
 * configured port, and for each session accepts the topology's enclave(s),
 * runs the AKE as responder (only pinned keys are accepted), receives the hello
 * (protocol, feeds, session) and its seed bundle from e0, links up with the other
 * workers when the protocol is lean, then serves op requests until the enclaves
 * leave. A failed or malicious connection ends that session with a clear log
 * line; the worker keeps listening for the next one (unless `once`).
 *
 * Lean links (docs/protocol.md): worker 1 is the hub. w0 and, online, w2 connect to
 * w1 once their enclave's hello has arrived, run the AKE with w1's pinned key and
 * send {kind:'link', from, session}; w1 accepts them on its listener next to the
 * enclaves (any order) and keeps only links naming its session.
 *
 * Spares (docs/net.md): a process started as a spare (`--party s0`) listens on its own entry and plays
 * whichever role the enclave's hello gives it. Every hello names the roster (the configured party that
 * plays each role): w0/w2 dial the party playing w1, and the worker playing w1 keeps a link only when
 * its authenticated key is that of the party the roster names for the link's role. Only the pinned
 * keys of the config's enclaves, workers and spares are accepted.
 */
import type { Backend } from '../backend/backend.js';
import { connectWithRetry, listenAsParty, transportFor } from '../net/cluster.js';
import { type ClusterConfig, type SpareName, partyConfig, workerNames } from '../net/cluster-config.js';
import type { Identity } from '../net/identity.js';
import { samePublicKey } from '../net/identity.js';
import { DEFAULT_MAX_QUEUED_BYTES } from '../net/connection.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../net/frame.js';
import { MsgType } from '../net/message-types.js';
import type { Connection, Listener, Transport } from '../net/transport.js';
import { performHandshake, receiveSeedBundle } from '../protocol/key-schedule.js';
import { isProtocolName } from '../protocol/variant.js';
import { ADMITTED, type AdmissionLimits, Admissions, DEFAULT_ADMISSION_LIMITS, expectAdmitted } from './admission.js';
import type { LeanLinks } from './lean-worker-op.js';
import { SESSION_CONTEXT, type SessionHello } from './session.js';
import { type WorkerKeys, type WorkerParty, WorkerService } from './worker-service.js';

/** Receive limits for connections that have not authenticated yet. */
export const PRE_AUTH_LIMITS = { maxFrameBytes: 64 * 1024, maxQueuedBytes: 1024 * 1024 } as const;

/** Raises an admitted connection's receive limits, then tells the peer (ADMITTED). */
async function admitted(conn: Connection): Promise<void> {
  conn.setReceiveLimits?.({ maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES });
  await conn.send({ type: MsgType.Control, dtype: 'json', value: ADMITTED });
}

export interface WorkerRoleOptions {
  readonly config: ClusterConfig;
  /** The configured worker this process is (0, 1, 2), or a spare (s0, …) that plays the role each hello gives it. */
  readonly party: WorkerParty | SpareName;
  readonly identity: Identity;
  readonly backend: Backend;
  /**
   * Serve sessions until one ends with the enclave's goodbye, then return. A session that ended without
   * one (the enclave abandoned it after losing another worker, protocol/recovery.ts, or died) is
   * followed by at most `rejoinTimeoutMs` of waiting for the next; none comes: return.
   */
  readonly once?: boolean;
  /** `once`: how long to wait for a new session after one ended without a goodbye (ms, default 5 min). */
  readonly rejoinTimeoutMs?: number;
  readonly transport?: Transport;
  /** Progress/diagnostic lines (never tensor contents or keys). */
  readonly log?: (line: string) => void;
  /** Called once the listener is bound. */
  readonly onListening?: (l: Listener) => void;
  /** How long w0/w2 keep trying to reach w1 for a lean session (ms, default 30 s). */
  readonly linkTimeoutMs?: number;
  /** Bounds on connections in session set-up (roles/admission.ts). */
  readonly admission?: Partial<AdmissionLimits>;
  /**
   * A session ends when an enclave sends nothing, not even a keepalive (roles/keepalive.ts), for this
   * long (ms, default 5 min): a stalled enclave must not hold the workers forever.
   */
  readonly sessionIdleMs?: number;
  /** Testing only: `--inject-fault` (fault-injection.ts), shared by every session of this process. */
  readonly fault?: (out: Int32Array) => void;
}

export const DEFAULT_SESSION_IDLE_MS = 300_000;
/** Lean w1: how long w0's link may outlive an enclave that left (a relayed goodbye arrives well within it). */
const HUB_GRACE_MS = 2_000;
export const DEFAULT_REJOIN_TIMEOUT_MS = 300_000;

interface Joined {
  conn: Connection;
  hello: SessionHello;
  keys?: WorkerKeys;
}

interface Link {
  conn: Connection;
  /** The role the dialling worker plays. */
  from: 'w0' | 'w2';
  /** The configured party it authenticated as (checked against the hello's roster). */
  party: string;
  session: string;
}

/** This process's name in the config: w0, w1, w2 or a spare's s0, … */
export function workerName(party: WorkerParty | SpareName): string {
  return typeof party === 'number' ? `w${party}` : party;
}

const ENCLAVES = ['e0', 'e1'] as const;
const LINK_FROM = ['w0', 'w2'] as const;

/** The hello's roster, checked: configured workers or spares, distinct, this process in the role it is given. */
function checkRoster(config: ClusterConfig, self: string, h: Partial<SessionHello>): boolean {
  const r = h.roster as Record<string, unknown> | undefined;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return false;
  const roles = h.workers === 3 ? ['w0', 'w1', 'w2'] : ['w0', 'w1'];
  if (Object.keys(r).length !== roles.length || !roles.every((k) => typeof r[k] === 'string')) return false;
  const names = roles.map((k) => r[k] as string);
  const known = workerNames(config);
  return names.every((n) => known.includes(n)) && new Set(names).size === names.length && r[`w${h.role}`] === self;
}

/** An enclave's hello, checked (exported for tests): a malformed one ends that connection's set-up. */
export function parseHello(v: unknown, enclave: 'e0' | 'e1', config: ClusterConfig, self: string): SessionHello {
  const h = v as Partial<SessionHello> | null;
  const ok =
    h !== null &&
    typeof h === 'object' &&
    h.kind === 'hello' &&
    h.enclave === enclave &&
    typeof h.feeds === 'boolean' &&
    (h.topology === 'single' || h.topology === 'replicated') &&
    isProtocolName(h.protocol) &&
    (h.workers === 2 || h.workers === 3) &&
    typeof h.session === 'string' &&
    /^[0-9a-f]{32}$/.test(h.session) &&
    (h.role === 0 || h.role === 1 || (h.role === 2 && h.workers === 3)) &&
    checkRoster(config, self, h);
  if (!ok) throw new Error(`enclave ${enclave} sent a malformed hello`);
  return h as SessionHello;
}

/** Authenticates one incoming connection: an enclave (hello, keys from e0) or, at w1, a lean link. */
async function admit(o: WorkerRoleOptions, conn: Connection): Promise<Joined | Link> {
  const { config, identity } = o;
  const self = workerName(o.party);
  const enclaves = ENCLAVES.filter((e) => config.parties[e]);
  // which role this worker plays is only known from the hello: any other worker or spare may dial it as w1
  const links = workerNames(config).filter((w) => w !== self);
  const keyOf = (p: string) => partyConfig(config, p).publicKey;
  const hs = await performHandshake(conn, {
    self: identity,
    expectedPeer: [...enclaves, ...links].map(keyOf),
    role: 'responder',
    context: SESSION_CONTEXT,
  });
  const who = [...enclaves, ...links].find((p) => samePublicKey(hs.peerPublicKey, keyOf(p)))!;
  const first = await conn.expect(MsgType.Control);
  const v = first.dtype === 'json' ? first.value : null;
  if (who !== 'e0' && who !== 'e1') {
    const l = v as { kind?: unknown; from?: unknown; session?: unknown } | null;
    if (!l || l.kind !== 'link' || !(LINK_FROM as readonly unknown[]).includes(l.from) || typeof l.session !== 'string') {
      throw new Error(`worker ${who} sent a malformed link hello`);
    }
    await admitted(conn);
    return { conn, from: l.from as Link['from'], party: who, session: l.session };
  }
  const hello = parseHello(v, who, config, self);
  const joined: Joined = { conn, hello };
  if (who === 'e0') joined.keys = (await receiveSeedBundle(conn, hs.sessionKey, hello.role, hello.protocol)).keys as WorkerKeys;
  await admitted(conn);
  return joined;
}

/** w0 / w2: the lean link to w1 for `hello`'s session. */
async function dialHub(o: WorkerRoleOptions, transport: Transport, hello: SessionHello): Promise<Connection> {
  // the party that plays w1 in this session (a spare, after a replacement), at its configured address and key
  const hub = hello.roster.w1;
  const conn = await connectWithRetry(transport, o.config, hub, Date.now() + (o.linkTimeoutMs ?? 30_000));
  try {
    await performHandshake(conn, { self: o.identity, expectedPeer: partyConfig(o.config, hub).publicKey, role: 'initiator', context: SESSION_CONTEXT });
    await conn.send({ type: MsgType.Control, dtype: 'json', value: { kind: 'link', from: `w${hello.role}`, session: hello.session } });
    await expectAdmitted(conn, o.linkTimeoutMs ?? 30_000);
    return conn;
  } catch (err) {
    conn.destroy(err as Error);
    throw err;
  }
}

/** The hello every joined enclave agrees on (replicas must describe the same session). */
function agreedHello(joined: readonly Joined[]): SessionHello {
  const h = joined[0].hello;
  for (const j of joined) {
    const same = j.hello.role === h.role && JSON.stringify(j.hello.roster) === JSON.stringify(h.roster);
    if (j.hello.protocol !== h.protocol || j.hello.session !== h.session || j.hello.workers !== h.workers || j.hello.topology !== h.topology || !same) {
      throw new Error('the enclave replicas describe different sessions (protocol, workers, topology, roles or session id)');
    }
  }
  return h;
}

/** Runs the worker until `once` completes a session (or forever). */
export async function runWorker(o: WorkerRoleOptions): Promise<void> {
  const log = o.log ?? (() => {});
  const name = workerName(o.party);
  const rejoinMs = o.rejoinTimeoutMs ?? DEFAULT_REJOIN_TIMEOUT_MS;
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
  let pendingLinks: Link[] = [];
  // once: after a session that ended without a goodbye, the time by which the next one must begin
  let rejoinBy: number | null = null;
  const next = async () => {
    if (rejoinBy === null) return admissions.next();
    const p = admissions.next();
    p.catch(() => {}); // still pending when the wait is over: rejected when the listener closes
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), Math.max(0, rejoinBy! - Date.now()))));
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  // every connection's set-up runs concurrently under the admission deadline (which bounds the waits
  // inside admit() too: a timed-out connection is destroyed)
  const admissions = new Admissions(listener, (conn) => admit(o, conn), { ...DEFAULT_ADMISSION_LIMITS, ...o.admission }, (err) =>
    log(`${name}: session set-up failed: ${err.message}`),
  );
  try {
    for (;;) {
      const joined: Joined[] = [];
      const links: { -readonly [K in keyof LeanLinks]: LeanLinks[K] } = {};
      // enclaves, and at w1 the lean links, in any order
      const linksNeeded = () => {
        if (joined.length < expected || joined[0].hello.role !== 1) return 0;
        const h = joined[0].hello;
        return h.protocol === 'lean' ? (h.workers === 3 ? 2 : 1) : 0;
      };
      const takeLinks = () => {
        if (joined.length < expected) return;
        const { session, roster, role } = joined[0].hello;
        for (const l of pendingLinks) {
          // a link counts only from the party the roster names for its role, to the worker playing w1
          if (l.session !== session || links[l.from] || role !== 1 || roster[l.from] !== l.party) {
            log(`${name}: dropped a link from ${l.party} (as ${l.from}) for another session or roster`);
            l.conn.destroy(new Error('link for another session'));
          } else links[l.from] = l.conn;
        }
        pendingLinks = [];
      };
      while (joined.length < expected || [links.w0, links.w2].filter(Boolean).length < linksNeeded()) {
        const got = await next();
        if (got === null) {
          log(`${name}: no new session within ${rejoinMs / 1000} s after the last one ended without a goodbye; exiting (--once)`);
          return;
        }
        const { conn, value: j } = got;
        // an enclave that left before the session began (it abandoned a try, roles/reconnect.ts) is forgotten
        for (let i = joined.length - 1; i >= 0; i--) if (joined[i].conn.isClosed) joined.splice(i, 1);
        pendingLinks = pendingLinks.filter((l) => !l.conn.isClosed);
        try {
          if ('from' in j) pendingLinks.push(j);
          else {
            if (joined.some((x) => x.hello.enclave === j.hello.enclave)) throw new Error(`enclave ${j.hello.enclave} joined twice`);
            joined.push(j);
          }
          takeLinks();
        } catch (err) {
          log(`${name}: session set-up failed: ${(err as Error).message}`);
          conn.destroy(err as Error);
        }
      }
      rejoinBy = null;
      admissions.busy(`${name} is serving another session (since ${new Date().toISOString()}); try again when it ends`);
      for (const j of joined) j.conn.setIdleTimeout?.(o.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS);
      const hello = agreedHello(joined);
      const role = hello.role;
      if (name !== `w${role}`) log(`${name}: playing w${role} in this session`);
      const keys = joined.find((j) => j.keys)?.keys;
      if (!keys) throw new Error(`${name}: no seed bundle received from e0`);
      if (hello.protocol === 'lean' && role !== 1 && (role === 0 || hello.workers === 3)) {
        try {
          // (the enclave tells a worker its session only once it has authenticated every worker, so w1
          // is there; a failed dial ends this session, not the worker)
          links.w1 = await dialHub(o, transport, hello);
        } catch (err) {
          // this session never began: wait for the next one (the enclave tries again when it recovers)
          log(`${name}: session set-up failed: ${(err as Error).message}`);
          for (const j of joined) j.conn.destroy(err as Error);
          if (o.once) rejoinBy = Date.now() + rejoinMs;
          admissions.busy(null);
          continue;
        }
      }
      const svc = new WorkerService(role, o.backend, keys, { protocol: hello.protocol, links, fault: o.fault });
      for (const j of joined) svc.addSubscriber(j.conn);
      // lean worker 1 takes its requests from worker 0's link; every enclave it does not serve ops for
      // may still ask for statistics until the session ends
      const feeders = hello.protocol === 'lean' && role === 1 ? [links.w0!] : joined.filter((j) => j.hello.feeds).map((j) => j.conn);
      for (const j of joined) if (!feeders.includes(j.conn)) void svc.serveSubscriber(j.conn);
      if (hello.protocol === 'lean' && role === 1) {
        // the hub's requests come from w0's link: if w0 stalls and the enclaves abandon the session, the hub
        // must not wait on that link forever, or no new session (with a spare for w0) could reach it. A
        // goodbye relayed by w0 arrives right after the enclave leaves: it has HUB_GRACE_MS to do so.
        const w0 = links.w0!;
        for (const j of joined) {
          void j.conn.closed.then(() => setTimeout(() => w0.destroy(new Error('the enclave left this session')), HUB_GRACE_MS).unref());
        }
      }
      const ends = await Promise.all(feeders.map((c) => svc.serveFeeder(c)));
      for (const c of [...joined.map((j) => j.conn), links.w0, links.w1, links.w2]) await c?.close().catch(() => {});
      const errors = ends.filter((e): e is Error => e !== null);
      log(
        `${name}: session ended after ${svc.stats.ops} ops (${hello.protocol} protocol), ${(svc.stats.busyMs / 1000).toFixed(1)} s computing` +
          (errors.length ? `; error: ${errors.map((e) => e.message).join('; ')}` : ''),
      );
      if (o.once && svc.saidBye) return;
      if (o.once) rejoinBy = Date.now() + rejoinMs;
      admissions.busy(null);
    }
  } finally {
    admissions.close();
    for (const l of pendingLinks) l.conn.destroy();
    await listener.close();
  }
}
