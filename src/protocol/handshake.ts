/**
 * Authenticated key exchange over any Connection: signed ephemeral X25519
 * (SIGMA-style, "sign both identities") + HKDF-SHA256, with key confirmation.
 *
 *   I → R  HandshakeInit     {v: 1, context, identity: idI, ephemeral: eI}
 *   R → I  HandshakeResponse {v: 1, identity: idR, ephemeral: eR,
 *                             signature: Sign_R(LABEL_R ‖ th), confirm: HMAC(kc, "responder" ‖ th)}
 *   I → R  HandshakeFinish   {signature: Sign_I(LABEL_I ‖ th), confirm: HMAC(kc, "initiator" ‖ th)}
 *   R → I  HandshakeAccept   {confirm: HMAC(kc, "accept" ‖ th)}
 *
 * where id* are long-term Ed25519 identity keys (raw 32 bytes; text form
 * "ed25519:…" on the wire), e* fresh X25519 public keys (raw 32 bytes,
 * base64url), and the transcript hash
 *   th = SHA-256("goten/ake/v1" ‖ u16 len ‖ context ‖ idI ‖ idR ‖ eI ‖ eR)
 * binds the protocol label, the caller's context string, both identities and
 * both ephemerals. LABEL_R / LABEL_I = "goten/ake/v1 responder|initiator
 * signature\0" separate these signatures from each other and from TLS.
 * With z = X25519(e_own, e_peer) (OpenSSL rejects an all-zero z):
 *   sessionKey = HKDF-SHA256(ikm = z, salt = th, info = "goten/ake/v1 session key", 32 bytes)
 *   kc         = HKDF-SHA256(ikm = z, salt = th, info = "goten/ake/v1 key confirmation", 32 bytes)
 * Each side checks that the peer's identity is the pinned one it expects
 * (AuthenticationError otherwise), the peer's signature (HandshakeError), and
 * the peer's confirmation MAC (HandshakeError). On any failure the connection
 * gets an Error frame {code: "HANDSHAKE_FAILED"} and is closed, and the promise
 * rejects. The final Accept makes the outcome symmetric: the initiator's promise
 * resolves only after the responder has verified everything, so either both
 * sides get the (same) key or both fail. Cost: two round trips, once per link.
 * Forward secrecy: ephemeral private keys exist only inside performHandshake.
 */
import {
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { publicKeyToText, toPublicKey, type Identity } from '../net/identity.js';
import { MsgType } from '../net/message-types.js';
import { AuthenticationError, PeerError, type Connection } from '../net/transport.js';

export const AKE_LABEL = 'goten/ake/v1';
const LABEL_R = Buffer.from(`${AKE_LABEL} responder signature\0`);
const LABEL_I = Buffer.from(`${AKE_LABEL} initiator signature\0`);

export class HandshakeError extends Error {
  override name = 'HandshakeError';
}

export interface HandshakeOptions {
  /** Our long-term identity. */
  self: Identity;
  /** The pinned key(s) the peer must prove; a responder may accept any of several. */
  expectedPeer: KeyObject | string | readonly (KeyObject | string)[];
  role: 'initiator' | 'responder';
  /** Extra context bound into the transcript (both sides must pass the same), e.g. "seeds". */
  context?: string;
  /** Per-message deadline, default 10 s. */
  timeoutMs?: number;
}

export interface HandshakeResult {
  /** 32-byte pairwise key (AES-256-GCM capable); fresh per handshake. */
  sessionKey: Uint8Array;
  /** The transcript hash th (public; a session id). */
  transcriptHash: Uint8Array;
  /** The peer's authenticated identity key, "ed25519:…". */
  peerPublicKey: string;
}

function rawEd25519(k: KeyObject): Buffer {
  return Buffer.from(String(k.export({ format: 'jwk' }).x), 'base64url');
}

function rawX25519(k: KeyObject): Buffer {
  return Buffer.from(String(k.export({ format: 'jwk' }).x), 'base64url');
}

function b64(v: unknown, what: string, bytes: number): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v)) throw new HandshakeError(`${what} is not base64url text`);
  const b = Buffer.from(v, 'base64url');
  if (b.length !== bytes) throw new HandshakeError(`${what} must be ${bytes} bytes, got ${b.length}`);
  return b;
}

function x25519FromRaw(raw: Buffer): KeyObject {
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch (err) {
    throw new HandshakeError(`invalid ephemeral X25519 key: ${(err as Error).message}`);
  }
}

function transcriptHash(context: string, idI: Buffer, idR: Buffer, eI: Buffer, eR: Buffer): Buffer {
  const ctx = Buffer.from(context, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(ctx.length);
  return createHash('sha256').update(AKE_LABEL).update(len).update(ctx).update(idI).update(idR).update(eI).update(eR).digest();
}

function deriveKeys(z: Buffer, th: Buffer): { sessionKey: Buffer; kc: Buffer } {
  const sessionKey = Buffer.from(hkdfSync('sha256', z, th, `${AKE_LABEL} session key`, 32));
  const kc = Buffer.from(hkdfSync('sha256', z, th, `${AKE_LABEL} key confirmation`, 32));
  return { sessionKey, kc };
}

const mac = (kc: Buffer, who: string, th: Buffer): Buffer => createHmac('sha256', kc).update(who).update(th).digest();

function objectBody(msg: { dtype: string; value?: unknown }, what: string): Record<string, unknown> {
  const v = msg.dtype === 'json' ? msg.value : undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HandshakeError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** Identity key from a message; must be one of the expected pinned keys. */
function checkPeerIdentity(v: unknown, expected: KeyObject[], role: string): KeyObject {
  const list = expected.map((k) => publicKeyToText(k)).join(' or ');
  if (typeof v !== 'string') throw new AuthenticationError(`${role} sent no identity key (expected ${list})`);
  const hit = expected.find((k) => publicKeyToText(k) === v);
  if (!hit) throw new AuthenticationError(`${role} identity ${v.slice(0, 60)} is not the pinned key (expected ${list})`);
  return hit;
}

function checkSignature(peer: KeyObject, label: Buffer, th: Buffer, sigText: unknown, role: string): void {
  const sig = b64(sigText, `${role} signature`, 64);
  if (!verify(null, Buffer.concat([label, th]), peer, sig)) {
    throw new HandshakeError(`${role} signature does not verify over the transcript (tampered or wrong key)`);
  }
}

function checkConfirm(kc: Buffer, who: string, th: Buffer, text: unknown): void {
  const got = b64(text, `${who} key confirmation`, 32);
  if (!timingSafeEqual(got, mac(kc, who, th))) throw new HandshakeError(`${who} key confirmation does not match (different keys derived)`);
}

function shared(own: KeyObject, peer: KeyObject): Buffer {
  try {
    return diffieHellman({ privateKey: own, publicKey: peer });
  } catch (err) {
    throw new HandshakeError(`X25519 failed (degenerate ephemeral key?): ${(err as Error).message}`);
  }
}

/**
 * Run the AKE as initiator or responder. Both sides get the same sessionKey, or
 * both fail (and the connection is closed).
 */
export async function performHandshake(conn: Connection, opts: HandshakeOptions): Promise<HandshakeResult> {
  const expected = (Array.isArray(opts.expectedPeer) ? opts.expectedPeer : [opts.expectedPeer]).map((k) =>
    toPublicKey(k as KeyObject | string),
  );
  if (expected.length === 0) throw new AuthenticationError('performHandshake: no expected peer key given');
  const context = opts.context ?? '';
  const t = { timeoutMs: opts.timeoutMs ?? 10_000 };
  const self = opts.self;
  const idSelf = rawEd25519(self.publicKey);
  const eph = generateKeyPairSync('x25519');
  const eSelf = rawX25519(eph.publicKey);
  try {
    if (opts.role === 'initiator') {
      await conn.send({ type: MsgType.HandshakeInit, dtype: 'json', value: { v: 1, context, identity: self.publicKeyText, ephemeral: eSelf.toString('base64url') } });
      const m = await conn.expect(MsgType.HandshakeResponse, t);
      const r = objectBody(m, 'HandshakeResponse');
      const peer = checkPeerIdentity(r.identity, expected, 'responder');
      const eR = b64(r.ephemeral, 'responder ephemeral key', 32);
      const th = transcriptHash(context, idSelf, rawEd25519(peer), eSelf, eR);
      checkSignature(peer, LABEL_R, th, r.signature, 'responder');
      const { sessionKey, kc } = deriveKeys(shared(eph.privateKey, x25519FromRaw(eR)), th);
      checkConfirm(kc, 'responder', th, r.confirm);
      const signature = sign(null, Buffer.concat([LABEL_I, th]), self.privateKey).toString('base64url');
      await conn.send({ type: MsgType.HandshakeFinish, dtype: 'json', value: { signature, confirm: mac(kc, 'initiator', th).toString('base64url') } });
      const a = objectBody(await conn.expect(MsgType.HandshakeAccept, t), 'HandshakeAccept');
      checkConfirm(kc, 'accept', th, a.confirm);
      kc.fill(0);
      return { sessionKey, transcriptHash: th, peerPublicKey: publicKeyToText(peer) };
    }
    const m = await conn.expect(MsgType.HandshakeInit, t);
    const i = objectBody(m, 'HandshakeInit');
    if (i.v !== 1) throw new HandshakeError(`unsupported handshake version ${JSON.stringify(i.v)}`);
    if (i.context !== context) throw new HandshakeError(`handshake context mismatch: peer uses ${JSON.stringify(i.context)}, we use ${JSON.stringify(context)}`);
    const peer = checkPeerIdentity(i.identity, expected, 'initiator');
    const eI = b64(i.ephemeral, 'initiator ephemeral key', 32);
    const th = transcriptHash(context, rawEd25519(peer), idSelf, eI, eSelf);
    const { sessionKey, kc } = deriveKeys(shared(eph.privateKey, x25519FromRaw(eI)), th);
    const signature = sign(null, Buffer.concat([LABEL_R, th]), self.privateKey).toString('base64url');
    await conn.send({
      type: MsgType.HandshakeResponse,
      dtype: 'json',
      value: { v: 1, identity: self.publicKeyText, ephemeral: eSelf.toString('base64url'), signature, confirm: mac(kc, 'responder', th).toString('base64url') },
    });
    const f = objectBody(await conn.expect(MsgType.HandshakeFinish, t), 'HandshakeFinish');
    checkSignature(peer, LABEL_I, th, f.signature, 'initiator');
    checkConfirm(kc, 'initiator', th, f.confirm);
    await conn.send({ type: MsgType.HandshakeAccept, dtype: 'json', value: { confirm: mac(kc, 'accept', th).toString('base64url') } });
    kc.fill(0);
    return { sessionKey, transcriptHash: th, peerPublicKey: publicKeyToText(peer) };
  } catch (err) {
    const e = err instanceof PeerError ? new HandshakeError(`handshake with ${conn.peer} failed on the other side: ${err.peerMessage}`) : (err as Error);
    if (!conn.isClosed) {
      await conn.send({ type: MsgType.Error, dtype: 'json', value: { code: 'HANDSHAKE_FAILED', message: e.message } }).catch(() => {});
      await conn.close().catch(() => {});
    }
    throw e;
  }
}
