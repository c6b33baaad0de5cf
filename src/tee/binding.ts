/**
 * Key binding: the enclave generates its TLS/channel key pair inside the TEE and puts a digest of the
 * public key into the 64-byte report data, so a client that verified the report knows the key belongs to
 * the attested code (docs/tee.md §4). Rules (`KeyBindingRule`):
 *
 * - `goten-v1` (default): SHA-512( ASCII "goten-attest-v1" ‖ 0x00 ‖ publicKey ‖ [nonce] ) — 64 bytes; the label
 *   separates this use from any other hash of the same key. publicKey = SubjectPublicKeyInfo DER for keys
 *   that have one (`publicKeyBytes`), raw bytes otherwise.
 * - `sha512`: SHA-512( [nonce] ‖ publicKey ) — teekit's convention (the SEV-SNP x25519 fixture).
 * - `sha256`: SHA-256( publicKey ) ‖ 32 zero bytes — Gramine RA-TLS legacy convention (no nonce).
 *
 * The optional nonce is a verifier-chosen challenge for freshness; both sides must use the same bytes.
 */
import { createHash, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';

export type KeyBindingRule = 'goten-v1' | 'sha512' | 'sha256';
export const GOTEN_BINDING_LABEL = 'goten-attest-v1';

export interface KeyBinding {
  /** SPKI DER of the enclave's public key (or raw key bytes for keys without SPKI, e.g. a bare X25519 key) */
  publicKey: Uint8Array;
  nonce?: Uint8Array;
}

export function bindingReportData(rule: KeyBindingRule, kb: KeyBinding): Uint8Array {
  const h = (alg: string, ...parts: Uint8Array[]) => {
    const x = createHash(alg);
    for (const p of parts) x.update(p);
    return x.digest();
  };
  const nonce = kb.nonce ?? new Uint8Array(0);
  switch (rule) {
    case 'goten-v1':
      return new Uint8Array(h('sha512', Buffer.from(GOTEN_BINDING_LABEL + '\0', 'latin1'), kb.publicKey, nonce));
    case 'sha512':
      return new Uint8Array(h('sha512', nonce, kb.publicKey));
    case 'sha256': {
      if (kb.nonce) throw new TypeError('the sha256 (RA-TLS legacy) binding has no nonce');
      const out = new Uint8Array(64);
      out.set(h('sha256', kb.publicKey));
      return out;
    }
  }
}

/**
 * The bytes to bind for a key: SPKI DER of a KeyObject, a PEM public key / certificate / private key
 * (public half), or the raw bytes given (hex text is decoded) when the input is not PEM.
 */
export function publicKeyBytes(key: KeyObject | string | Uint8Array): Uint8Array {
  if (key instanceof KeyObject) {
    const pub = key.type === 'private' ? createPublicKey(key) : key;
    return new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
  }
  const text = typeof key === 'string' ? key : Buffer.from(key).toString('latin1');
  if (text.includes('-----BEGIN CERTIFICATE-----')) return publicKeyBytes(new X509Certificate(text).publicKey);
  if (text.includes('-----BEGIN')) return publicKeyBytes(createPublicKey(text));
  const trimmed = text.trim();
  if (/^(0x)?([0-9a-fA-F]{2})+$/.test(trimmed)) return new Uint8Array(Buffer.from(trimmed.replace(/^0x/, ''), 'hex'));
  return typeof key === 'string' ? new Uint8Array(Buffer.from(key, 'utf8')) : new Uint8Array(key);
}
