/**
 * The key schedule: where every PRG seed of the linear-op protocol comes from.
 *
 *  1. Master secret. The enclave draws 32 bytes with crypto.randomBytes. In the
 *     replicated topology e0 draws it and sends it to e1 (MasterSecret frame)
 *     AES-256-GCM-encrypted under their pairwise AKE session key
 *     (src/protocol/handshake.ts), so both replicas derive identical streams.
 *     The master secret never leaves the enclaves.
 *  2. Stream keys. For each purpose name N in STREAM_NAMES,
 *       key_N = HKDF-SHA256(ikm = master, salt = "goten/stream-keys/v1",
 *                           info = "goten/stream-key/v1/" ‖ N [‖ "/" ‖ context], 16 bytes)
 *     — a 16-byte AES-128 key for the PRG of that stream (src/field). 'noise'
 *     (stochastic rounding) stays inside the enclave(s).
 *  3. Seed bundles. Each worker gets only the keys its protocol (variant.ts) gives it
 *     (WORKER_STREAMS):
 *       goten  worker 0: A0, B0, CM0   (it expands its shares A0, B0 and output mask itself)
 *              worker 1: CM1           (its shares A1 = AQ − A0, B1 = BQ − B0 depend on the
 *                                       data, so it receives them explicitly every op)
 *              worker 2: U, V, CMZ     (ONLY these: it computes Z' = f(U,V) − CMZ)
 *       lean   worker 0: S0, CM0       (its shares of every operand, its output mask)
 *              worker 1: D, CM1        (it derives its shares A1 = E + D(A), B1 = F + D(B))
 *              worker 2: S0, D, CM0, CM1, T   (the masks U = S0 + D and Z' = f(U, V) − T + CM0
 *                                       + CM1; it never receives a data-dependent value)
 *     A bundle travels enclave → worker in a SeedBundle frame (Uint8 payload)
 *     encrypted under the pairwise session key of the enclave–worker AKE.
 *  No key is ever derived from anything public: everything descends from the
 *  random master secret, and the AKE session keys from fresh X25519 ephemerals.
 *
 * Sealed box format (SeedBundle and MasterSecret payloads):
 *   nonce (12 random bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes)
 *   key = HKDF-SHA256(sessionKey, salt = "", info = "goten/aead/v1 " ‖ purpose, 32)
 *   AAD = "goten/seed-bundle/v1 worker=<i>" (goten), "goten/seed-bundle/v2 protocol=lean
 *         worker=<i>" (lean), or "goten/master-secret/v1"
 *   SeedBundle plaintext = [version (1 goten, 2 lean), worker i] ‖ the 16-byte keys of
 *   WORKER_STREAMS[protocol][i] in that order; MasterSecret plaintext = [1] ‖ 32 bytes.
 * Secrets are never logged; error messages name keys, never show them.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { MsgType } from '../net/message-types.js';
import type { Connection, RecvOptions } from '../net/transport.js';
import type { ProtocolName } from './variant.js';

export { performHandshake, HandshakeError, AKE_LABEL, type HandshakeOptions, type HandshakeResult } from './handshake.js';

export const STREAM_NAMES = ['A0', 'B0', 'U', 'V', 'CM0', 'CM1', 'CMZ', 'S0', 'D', 'T', 'noise'] as const;
export type StreamName = (typeof STREAM_NAMES)[number];
export type StreamKeys = Readonly<Record<StreamName, Uint8Array>>;
export type WorkerIndex = 0 | 1 | 2;

export const MASTER_SECRET_BYTES = 32;
export const STREAM_KEY_BYTES = 16;

/** Which stream keys each worker may hold, per protocol. */
export const WORKER_STREAMS: Readonly<Record<ProtocolName, Readonly<Record<WorkerIndex, readonly StreamName[]>>>> = {
  goten: { 0: ['A0', 'B0', 'CM0'], 1: ['CM1'], 2: ['U', 'V', 'CMZ'] },
  lean: { 0: ['S0', 'CM0'], 1: ['D', 'CM1'], 2: ['S0', 'D', 'CM0', 'CM1', 'T'] },
};

const BUNDLE_VERSION: Readonly<Record<ProtocolName, number>> = { goten: 1, lean: 2 };

export interface SeedBundle {
  worker: WorkerIndex;
  protocol: ProtocolName;
  keys: Partial<Record<StreamName, Uint8Array>>;
}

export class KeyScheduleError extends Error {
  override name = 'KeyScheduleError';
}

/** A fresh random master secret (32 bytes). */
export function generateMasterSecret(): Uint8Array {
  return new Uint8Array(randomBytes(MASTER_SECRET_BYTES));
}

function checkMaster(master: Uint8Array): void {
  if (!(master instanceof Uint8Array) || master.length !== MASTER_SECRET_BYTES) {
    throw new KeyScheduleError(`master secret must be ${MASTER_SECRET_BYTES} bytes`);
  }
}

/**
 * Derive every stream key from the master secret. `context` (optional) separates
 * key sets derived from one master, e.g. per run or per re-keying epoch.
 */
export function deriveStreamKeys(master: Uint8Array, context?: string): StreamKeys {
  checkMaster(master);
  const out = {} as Record<StreamName, Uint8Array>;
  for (const name of STREAM_NAMES) {
    const info = `goten/stream-key/v1/${name}${context === undefined ? '' : `/${context}`}`;
    out[name] = new Uint8Array(hkdfSync('sha256', master, 'goten/stream-keys/v1', info, STREAM_KEY_BYTES));
  }
  return out;
}

function checkWorker(w: number): WorkerIndex {
  if (w !== 0 && w !== 1 && w !== 2) throw new KeyScheduleError(`worker index must be 0, 1 or 2, got ${w}`);
  return w;
}

/** The bundle for one worker: exactly WORKER_STREAMS[protocol][worker]. */
export function seedBundleFor(worker: number, keys: StreamKeys, protocol: ProtocolName): SeedBundle {
  const w = checkWorker(worker);
  const out: Partial<Record<StreamName, Uint8Array>> = {};
  for (const n of WORKER_STREAMS[protocol][w]) out[n] = keys[n].slice();
  return { worker: w, protocol, keys: out };
}

function aeadKey(sessionKey: Uint8Array, purpose: string): Buffer {
  if (!(sessionKey instanceof Uint8Array) || sessionKey.length !== 32) throw new KeyScheduleError('session key must be 32 bytes');
  return Buffer.from(hkdfSync('sha256', sessionKey, new Uint8Array(0), `goten/aead/v1 ${purpose}`, 32));
}

/** AES-256-GCM seal: nonce ‖ ciphertext ‖ tag. */
export function seal(sessionKey: Uint8Array, purpose: string, aad: string, plaintext: Uint8Array): Uint8Array {
  const key = aeadKey(sessionKey, purpose);
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  key.fill(0);
  return new Uint8Array(Buffer.concat([nonce, body, c.getAuthTag()]));
}

/** AES-256-GCM open; throws KeyScheduleError if the box was tampered with or the key/AAD differ. */
export function open(sessionKey: Uint8Array, purpose: string, aad: string, box: Uint8Array): Buffer {
  if (box.length < 28) throw new KeyScheduleError(`${purpose}: sealed box too short (${box.length} bytes)`);
  const key = aeadKey(sessionKey, purpose);
  try {
    const d = createDecipheriv('aes-256-gcm', key, box.subarray(0, 12));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(box.subarray(box.length - 16));
    return Buffer.concat([d.update(box.subarray(12, box.length - 16)), d.final()]);
  } catch {
    throw new KeyScheduleError(`${purpose}: authentication failed (tampered, or sealed under another session key)`);
  } finally {
    key.fill(0);
  }
}

const bundleAad = (w: WorkerIndex, protocol: ProtocolName): string =>
  protocol === 'goten' ? `goten/seed-bundle/v1 worker=${w}` : `goten/seed-bundle/v2 protocol=${protocol} worker=${w}`;

/** Encrypt a bundle under a session key. */
export function encryptSeedBundle(bundle: SeedBundle, sessionKey: Uint8Array): Uint8Array {
  const w = checkWorker(bundle.worker);
  const names = WORKER_STREAMS[bundle.protocol][w];
  const extra = Object.keys(bundle.keys).filter((k) => !names.includes(k as StreamName));
  if (extra.length > 0) throw new KeyScheduleError(`worker ${w} must not receive the keys ${extra.join(', ')} (${bundle.protocol} protocol)`);
  const pt = Buffer.alloc(2 + STREAM_KEY_BYTES * names.length);
  pt[0] = BUNDLE_VERSION[bundle.protocol];
  pt[1] = w;
  names.forEach((n, i) => {
    const k = bundle.keys[n];
    if (!k || k.length !== STREAM_KEY_BYTES) throw new KeyScheduleError(`bundle for worker ${w} lacks a ${STREAM_KEY_BYTES}-byte ${n} key`);
    pt.set(k, 2 + STREAM_KEY_BYTES * i);
  });
  const box = seal(sessionKey, 'seed-bundle', bundleAad(w, bundle.protocol), pt);
  pt.fill(0);
  return box;
}

/** Decrypt and validate a bundle meant for `worker` in `protocol`. */
export function decryptSeedBundle(box: Uint8Array, sessionKey: Uint8Array, worker: number, protocol: ProtocolName): SeedBundle {
  const w = checkWorker(worker);
  const pt = open(sessionKey, 'seed-bundle', bundleAad(w, protocol), box);
  const names = WORKER_STREAMS[protocol][w];
  try {
    if (pt.length !== 2 + STREAM_KEY_BYTES * names.length || pt[0] !== BUNDLE_VERSION[protocol] || pt[1] !== w) {
      throw new KeyScheduleError(`seed bundle for worker ${w} has the wrong layout`);
    }
    const keys: Partial<Record<StreamName, Uint8Array>> = {};
    names.forEach((n, i) => (keys[n] = new Uint8Array(pt.subarray(2 + STREAM_KEY_BYTES * i, 2 + STREAM_KEY_BYTES * (i + 1)))));
    return { worker: w, protocol, keys };
  } finally {
    pt.fill(0);
  }
}

/** Enclave → worker: send a bundle (SeedBundle frame, opId = worker index). */
export async function sendSeedBundle(conn: Connection, sessionKey: Uint8Array, bundle: SeedBundle): Promise<void> {
  const box = encryptSeedBundle(bundle, sessionKey);
  await conn.send({ type: MsgType.SeedBundle, opId: bundle.worker, label: 'keys', dtype: 'uint8', data: box });
}

/** Worker side: receive and open this worker's bundle for `protocol`. */
export async function receiveSeedBundle(
  conn: Connection,
  sessionKey: Uint8Array,
  worker: number,
  protocol: ProtocolName,
  opts: RecvOptions = {},
): Promise<SeedBundle> {
  const m = await conn.expect(MsgType.SeedBundle, { ...opts, opId: checkWorker(worker) });
  try {
    if (m.dtype !== 'uint8') throw new KeyScheduleError(`seed bundle must be a uint8 payload, got ${m.dtype}`);
    return decryptSeedBundle(m.data, sessionKey, worker, protocol);
  } catch (err) {
    conn.destroy(err as Error); // a failed MAC ends the connection
    throw err;
  } finally {
    m.release();
  }
}

/** Enclave e0 → e1 (replicated topology): share the master secret. */
export async function sendMasterSecret(conn: Connection, sessionKey: Uint8Array, master: Uint8Array): Promise<void> {
  checkMaster(master);
  const pt = Buffer.alloc(1 + MASTER_SECRET_BYTES);
  pt[0] = 1;
  pt.set(master, 1);
  const box = seal(sessionKey, 'master-secret', 'goten/master-secret/v1', pt);
  pt.fill(0);
  await conn.send({ type: MsgType.MasterSecret, label: 'keys', dtype: 'uint8', data: box });
}

/** Enclave e1: receive the master secret from e0. */
export async function receiveMasterSecret(conn: Connection, sessionKey: Uint8Array, opts: RecvOptions = {}): Promise<Uint8Array> {
  const m = await conn.expect(MsgType.MasterSecret, opts);
  try {
    if (m.dtype !== 'uint8') throw new KeyScheduleError(`master secret must be a uint8 payload, got ${m.dtype}`);
    const pt = open(sessionKey, 'master-secret', 'goten/master-secret/v1', m.data);
    if (pt.length !== 1 + MASTER_SECRET_BYTES || pt[0] !== 1) throw new KeyScheduleError('master secret message has the wrong layout');
    const master = new Uint8Array(pt.subarray(1));
    pt.fill(0);
    return master;
  } catch (err) {
    conn.destroy(err as Error); // a failed MAC ends the connection
    throw err;
  } finally {
    m.release();
  }
}
