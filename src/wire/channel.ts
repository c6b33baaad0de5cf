/**
 * The client ↔ enclave channel: key agreement bound to the attested channel key, and the message envelope.
 * Shared by the client library and the enclave service (src/service), so both sides run the same code.
 *
 * Key agreement (one round trip, POST /session; Noise-NK-like, with an optional owner static key):
 *   S  = the enclave's static X25519 channel key, generated inside the TEE at start; its SPKI DER is bound
 *        into the attestation report (goten-v1 binding), so a client that verified the report knows that
 *        only the attested code holds S's private half.
 *   client → {v:1, ephemeral: eC, owner?: O}      (raw 32-byte X25519 keys, base64url)
 *   enclave → {v:1, session: sid, ephemeral: eS, confirm}
 *   th   = SHA-256("goten/channel/v1" ‖ u16 len ‖ SPKI(S) ‖ eC ‖ eS ‖ sid ‖ (0x01 ‖ O | 0x00))
 *   ikm  = X25519(eC, S) ‖ X25519(eC, eS) [‖ X25519(O, eS) when the client claims the owner key O]
 *   k_c2s, k_s2c, k_conf = HKDF-SHA256(ikm, salt = th, info = "goten/channel/v1 c2s|s2c|confirm", 32 bytes each)
 *   confirm = HMAC-SHA256(k_conf, "server" ‖ th)
 * Why: X25519(eC, S) makes the keys depend on the attested key (an impostor without S cannot derive them,
 * and `confirm` proves the peer has S); X25519(eC, eS) gives forward secrecy once eS is erased (a later
 * leak of S does not expose old sessions); X25519(O, eS) means a session claiming the owner key yields
 * working keys only for the holder of O's private key, so any request that decrypts on such a session
 * comes from the owner. Separate directional keys stop reflecting a request back as a response.
 *
 * Envelope (every request/response body of an encrypted endpoint), binary form:
 *   0  4  magic "GCH1"    4 16  session id    20 8  seq (u64 LE)    28 12  nonce (random)
 *   40 .. ciphertext ‖ 16-byte AES-256-GCM tag
 * JSON form: {"session": b64url, "seq": n, "nonce": b64url, "ciphertext": b64url(ciphertext ‖ tag)}.
 * AAD = the 40 header bytes ‖ "req " or "res " ‖ the route ("/predict", …), so a ciphertext cannot be moved
 * to another endpoint, another session, or from request to response. Requests use k_c2s, responses k_s2c
 * with the request's seq. The service accepts each seq once per session (a replay window, replay.ts).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';

export const CHANNEL_LABEL = 'goten/channel/v1';
export const ENVELOPE_MAGIC = 'GCH1';
export const ENVELOPE_HEADER = 40;
export const SESSION_ID_BYTES = 16;
const TAG = 16;

/** A refusal on the channel; `code` is stable (tests, HTTP error bodies). */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
  constructor(
    readonly code: 'MALFORMED' | 'DECRYPT_FAILED' | 'CONFIRM_FAILED' | 'BAD_KEY',
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface SessionKeys {
  readonly sessionId: Uint8Array;
  readonly c2s: Buffer;
  readonly s2c: Buffer;
  readonly transcriptHash: Buffer;
}

/** Raw 32-byte public key of an X25519 KeyObject (public or private). */
export function rawX25519(k: KeyObject): Buffer {
  const pub = k.type === 'private' ? createPublicKey(k) : k;
  if (pub.asymmetricKeyType !== 'x25519') throw new ChannelError('BAD_KEY', `expected an X25519 key, got ${pub.asymmetricKeyType}`);
  return Buffer.from(String(pub.export({ format: 'jwk' }).x), 'base64url');
}

/** X25519 public KeyObject from 32 raw bytes. */
export function x25519FromRaw(raw: Uint8Array, what = 'X25519 key'): KeyObject {
  if (raw.length !== 32) throw new ChannelError('BAD_KEY', `${what} must be 32 bytes, got ${raw.length}`);
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
  } catch (e) {
    throw new ChannelError('BAD_KEY', `${what} is invalid: ${(e as Error).message}`);
  }
}

/** X25519 public KeyObject from SPKI DER (what the attestation binds). */
export function x25519FromSpki(spki: Uint8Array, what = 'channel key'): KeyObject {
  let k: KeyObject;
  try {
    k = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    throw new ChannelError('BAD_KEY', `${what} is not an SPKI public key: ${(e as Error).message}`);
  }
  if (k.asymmetricKeyType !== 'x25519') throw new ChannelError('BAD_KEY', `${what} is ${k.asymmetricKeyType}, expected X25519`);
  return k;
}

export function spkiDer(k: KeyObject): Buffer {
  const pub = k.type === 'private' ? createPublicKey(k) : k;
  return pub.export({ format: 'der', type: 'spki' });
}

export function generateX25519(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('x25519');
}

function dh(priv: KeyObject, pub: KeyObject): Buffer {
  try {
    return diffieHellman({ privateKey: priv, publicKey: pub });
  } catch (e) {
    throw new ChannelError('BAD_KEY', `X25519 failed (degenerate key?): ${(e as Error).message}`);
  }
}

export function transcriptHash(channelSpki: Uint8Array, eC: Uint8Array, eS: Uint8Array, sid: Uint8Array, owner?: Uint8Array): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(channelSpki.length);
  const h = createHash('sha256').update(CHANNEL_LABEL).update(len).update(channelSpki).update(eC).update(eS).update(sid);
  if (owner) h.update(Buffer.of(1)).update(owner);
  else h.update(Buffer.of(0));
  return h.digest();
}

function derive(ikm: Buffer, th: Buffer, sid: Uint8Array): { keys: SessionKeys; confirm: Buffer } {
  const k = (what: string) => Buffer.from(hkdfSync('sha256', ikm, th, `${CHANNEL_LABEL} ${what}`, 32));
  const conf = k('confirm');
  const confirm = createHmac('sha256', conf).update('server').update(th).digest();
  conf.fill(0);
  ikm.fill(0);
  return { keys: { sessionId: new Uint8Array(sid), c2s: k('c2s'), s2c: k('s2c'), transcriptHash: th }, confirm };
}

/** Enclave side of POST /session: returns the keys and the response fields. */
export function serverAccept(
  channel: { privateKey: KeyObject; spki: Uint8Array },
  eCraw: Uint8Array,
  ownerRaw?: Uint8Array,
): { keys: SessionKeys; ephemeral: Buffer; confirm: Buffer } {
  const eC = x25519FromRaw(eCraw, 'client ephemeral key');
  const owner = ownerRaw ? x25519FromRaw(ownerRaw, 'owner key') : undefined;
  const eph = generateX25519();
  const eS = rawX25519(eph.publicKey);
  const sid = randomBytes(SESSION_ID_BYTES);
  const th = transcriptHash(channel.spki, eCraw, eS, sid, ownerRaw);
  const parts = [dh(channel.privateKey, eC), dh(eph.privateKey, eC)];
  if (owner) parts.push(dh(eph.privateKey, owner));
  const { keys, confirm } = derive(Buffer.concat(parts), th, sid);
  return { keys, ephemeral: eS, confirm };
}

/** Client side: keys from the enclave's answer; throws CONFIRM_FAILED unless the peer holds S. */
export function clientFinish(
  channelKey: KeyObject,
  eph: { privateKey: KeyObject; raw: Uint8Array },
  answer: { session: Uint8Array; ephemeral: Uint8Array; confirm: Uint8Array },
  owner?: { privateKey: KeyObject; raw: Uint8Array },
): SessionKeys {
  if (answer.session.length !== SESSION_ID_BYTES) throw new ChannelError('MALFORMED', `session id must be ${SESSION_ID_BYTES} bytes`);
  const eS = x25519FromRaw(answer.ephemeral, 'enclave ephemeral key');
  const th = transcriptHash(spkiDer(channelKey), eph.raw, answer.ephemeral, answer.session, owner?.raw);
  const parts = [dh(eph.privateKey, channelKey), dh(eph.privateKey, eS)];
  if (owner) parts.push(dh(owner.privateKey, eS));
  const { keys, confirm } = derive(Buffer.concat(parts), th, answer.session);
  if (answer.confirm.length !== confirm.length || !timingSafeEqual(Buffer.from(answer.confirm), confirm)) {
    throw new ChannelError('CONFIRM_FAILED', 'the service does not hold the attested channel key (key confirmation failed)');
  }
  return keys;
}

export interface Envelope {
  sessionId: Uint8Array;
  seq: bigint;
  nonce: Uint8Array;
  /** ciphertext ‖ tag */
  sealed: Uint8Array;
}

function header(sid: Uint8Array, seq: bigint, nonce: Uint8Array): Buffer {
  const h = Buffer.alloc(ENVELOPE_HEADER);
  h.write(ENVELOPE_MAGIC, 0, 'latin1');
  Buffer.from(sid).copy(h, 4);
  h.writeBigUInt64LE(seq, 20);
  Buffer.from(nonce).copy(h, 28);
  return h;
}

const aad = (h: Buffer, dir: 'req' | 'res', route: string) => Buffer.concat([h, Buffer.from(`${dir} ${route}`, 'utf8')]);

export function sealMessage(key: Buffer, sid: Uint8Array, seq: bigint, dir: 'req' | 'res', route: string, plaintext: Uint8Array): Envelope {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad(header(sid, seq, nonce), dir, route));
  const sealed = Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
  return { sessionId: sid, seq, nonce, sealed };
}

export function openMessage(key: Buffer, env: Envelope, dir: 'req' | 'res', route: string): Buffer {
  if (env.sealed.length < TAG) throw new ChannelError('MALFORMED', 'ciphertext is shorter than its tag');
  const ct = Buffer.from(env.sealed.buffer, env.sealed.byteOffset, env.sealed.byteLength);
  try {
    const d = createDecipheriv('aes-256-gcm', key, env.nonce);
    d.setAAD(aad(header(env.sessionId, env.seq, env.nonce), dir, route));
    d.setAuthTag(ct.subarray(ct.length - TAG));
    return Buffer.concat([d.update(ct.subarray(0, ct.length - TAG)), d.final()]);
  } catch {
    throw new ChannelError('DECRYPT_FAILED', 'message authentication failed (tampered, replayed onto another route, or another session key)');
  }
}

export function encodeEnvelope(e: Envelope): Buffer {
  return Buffer.concat([header(e.sessionId, e.seq, e.nonce), e.sealed]);
}

export function decodeEnvelope(b: Uint8Array): Envelope {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < ENVELOPE_HEADER + TAG) throw new ChannelError('MALFORMED', `envelope of ${buf.length} bytes is shorter than header + tag`);
  if (buf.toString('latin1', 0, 4) !== ENVELOPE_MAGIC) throw new ChannelError('MALFORMED', 'not a channel envelope (bad magic)');
  return { sessionId: buf.subarray(4, 20), seq: buf.readBigUInt64LE(20), nonce: buf.subarray(28, 40), sealed: buf.subarray(ENVELOPE_HEADER) };
}

export function envelopeToJson(e: Envelope): Record<string, string | number> {
  return { session: b64u(e.sessionId), seq: Number(e.seq), nonce: b64u(e.nonce), ciphertext: b64u(e.sealed) };
}

export function envelopeFromJson(v: unknown): Envelope {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ChannelError('MALFORMED', 'envelope must be a JSON object');
  const o = v as Record<string, unknown>;
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 0) throw new ChannelError('MALFORMED', 'envelope "seq" must be a non-negative integer');
  const sid = fromB64u(o.session, 'session', SESSION_ID_BYTES);
  const nonce = fromB64u(o.nonce, 'nonce', 12);
  const sealed = fromB64u(o.ciphertext, 'ciphertext');
  if (sealed.length < TAG) throw new ChannelError('MALFORMED', 'ciphertext is shorter than its tag');
  return { sessionId: sid, seq: BigInt(o.seq as number), nonce, sealed };
}

export const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

/** Strict base64url decoding (optionally of an exact length); MALFORMED otherwise. */
export function fromB64u(v: unknown, what: string, bytes?: number): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]*$/.test(v)) throw new ChannelError('MALFORMED', `"${what}" is not base64url text`);
  const b = Buffer.from(v, 'base64url');
  if (bytes !== undefined && b.length !== bytes) throw new ChannelError('MALFORMED', `"${what}" must be ${bytes} bytes, got ${b.length}`);
  return b;
}

/** Loads an X25519 private key (PKCS#8 PEM) — owner keys (owner-box.ts). */
export function x25519PrivateFromPem(pem: string, what: string): KeyObject {
  let k: KeyObject;
  try {
    k = createPrivateKey(pem);
  } catch (e) {
    throw new ChannelError('BAD_KEY', `${what} cannot be parsed: ${(e as Error).message}`);
  }
  if (k.asymmetricKeyType !== 'x25519') throw new ChannelError('BAD_KEY', `${what} is ${k.asymmetricKeyType}, expected X25519`);
  return k;
}
