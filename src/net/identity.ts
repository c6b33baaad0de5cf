/**
 * Long-term party identities: one Ed25519 key pair per party (enclave e0/e1,
 * workers w0/w1/w2, clients). The same key serves two purposes, with domain
 * separation by construction:
 *   - TLS 1.3 mutual authentication (src/net/tls.ts): the key is put into a
 *     self-signed certificate and peers pin its public key (TLS signs with its own
 *     64-byte-padded, context-labelled CertificateVerify input);
 *   - the application-level authenticated key exchange (src/protocol/handshake.ts),
 *     whose signatures always start with a "goten/ake/v1 …" label.
 *
 * Public key text format (what the cluster config and `goten keygen` use):
 *   "ed25519:" + base64url(raw 32-byte key), no padding, e.g. "ed25519:Xx3…Q" (51 chars).
 *
 * Key files written by `goten keygen --out DIR --name NAME`:
 *   DIR/NAME.key — PKCS#8 PEM private key, mode 0600 (secret: never log it);
 *   DIR/NAME.pub — the public key text plus a newline.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificatePem, selfSignedCertificateDer } from './x509.js';

const PREFIX = 'ed25519:';

/** A party's own key pair, loaded into memory. */
export interface Identity {
  /** Party name (informational: "e0", "w2", …). */
  readonly name: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** `publicKey` in the "ed25519:…" text format. */
  readonly publicKeyText: string;
}

/** Thrown for unreadable or malformed key material. */
export class KeyFormatError extends Error {
  override name = 'KeyFormatError';
}

/** Encode an Ed25519 public key as "ed25519:<base64url>". */
export function publicKeyToText(key: KeyObject): string {
  if (key.asymmetricKeyType !== 'ed25519') throw new KeyFormatError(`expected an Ed25519 key, got ${key.asymmetricKeyType}`);
  const jwk = key.export({ format: 'jwk' });
  return PREFIX + String(jwk.x);
}

/** Parse "ed25519:<base64url>" (a 32-byte raw key) into a KeyObject; throws KeyFormatError. */
export function publicKeyFromText(text: string): KeyObject {
  if (typeof text !== 'string' || !text.startsWith(PREFIX)) {
    throw new KeyFormatError(`public key must look like "ed25519:<43 base64url chars>", got ${JSON.stringify(String(text).slice(0, 60))}`);
  }
  const x = text.slice(PREFIX.length).trim();
  if (!/^[A-Za-z0-9_-]{43}$/.test(x) || Buffer.from(x, 'base64url').length !== 32) {
    throw new KeyFormatError(`public key "${text.slice(0, 60)}" is not 32 bytes of base64url`);
  }
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  } catch (err) {
    throw new KeyFormatError(`public key "${text.slice(0, 60)}" is invalid: ${(err as Error).message}`);
  }
}

/** Accept a KeyObject or its text form. */
export function toPublicKey(key: KeyObject | string): KeyObject {
  return typeof key === 'string' ? publicKeyFromText(key) : key;
}

/** Constant-structure equality of two Ed25519 public keys (public data: no timing concern). */
export function samePublicKey(a: KeyObject | string, b: KeyObject | string): boolean {
  return toPublicKey(a).equals(toPublicKey(b));
}

/** Fresh random identity (crypto.generateKeyPairSync). */
export function generateIdentity(name: string): Identity {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { name, privateKey, publicKey, publicKeyText: publicKeyToText(publicKey) };
}

/** Identity from a PKCS#8 PEM private key. */
export function identityFromPem(name: string, pem: string): Identity {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new KeyFormatError(`private key of "${name}" cannot be parsed: ${(err as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new KeyFormatError(`private key of "${name}" is ${privateKey.asymmetricKeyType}, expected Ed25519`);
  }
  const publicKey = createPublicKey(privateKey);
  return { name, privateKey, publicKey, publicKeyText: publicKeyToText(publicKey) };
}

/** Load an identity from a private key file (PKCS#8 PEM). */
export function loadIdentity(name: string, keyFile: string): Identity {
  let pem: string;
  try {
    pem = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new KeyFormatError(`cannot read private key file for "${name}" at ${keyFile}: ${(err as Error).message}`);
  }
  return identityFromPem(name, pem);
}

export interface KeyFiles {
  keyFile: string;
  pubFile: string;
  publicKeyText: string;
}

/**
 * Write DIR/NAME.key (0600) and DIR/NAME.pub for an identity. Refuses to
 * overwrite an existing key file unless `force`.
 */
export function saveIdentity(identity: Identity, dir: string, opts: { force?: boolean } = {}): KeyFiles {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(identity.name)) {
    throw new KeyFormatError(`party name "${identity.name}" must be 1-64 characters of [A-Za-z0-9_.-]`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, `${identity.name}.key`);
  const pubFile = join(dir, `${identity.name}.pub`);
  if (!opts.force && existsSync(keyFile)) {
    throw new KeyFormatError(`${keyFile} already exists (use --force to replace it)`);
  }
  const pem = identity.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(keyFile, pem, { mode: 0o600 });
  writeFileSync(pubFile, identity.publicKeyText + '\n', { mode: 0o644 });
  return { keyFile, pubFile, publicKeyText: identity.publicKeyText };
}

/** Cached TLS credentials (key PEM + self-signed certificate PEM) for an identity. */
const tlsCache = new WeakMap<KeyObject, { key: string; cert: string }>();

/** PEM key and self-signed certificate for node:tls (see src/net/x509.ts). */
export function tlsCredentials(identity: Identity): { key: string; cert: string } {
  let c = tlsCache.get(identity.privateKey);
  if (!c) {
    const der = selfSignedCertificateDer(identity.privateKey, identity.publicKey, `goten-${identity.name}`);
    c = { key: identity.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, cert: certificatePem(der) };
    tlsCache.set(identity.privateKey, c);
  }
  return c;
}
