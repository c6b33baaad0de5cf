/**
 * Owner keys and the owner box: how the enclave hands the trained model to the model owner so that only the
 * owner can open it — not the host, not the workers, not the transport (ECIES-style, X25519 + HKDF + AES-GCM).
 *
 * Owner key files (`goten ownerkey --out DIR [--name owner]`):
 *   DIR/NAME.key  X25519 private key, PKCS#8 PEM, mode 0600 — secret, stays with the owner
 *   DIR/NAME.pub  X25519 public key, SPKI PEM — given to the enclave operator (`goten serve --owner-key`)
 *
 * Box layout:
 *   0  4  magic "GOB1"     4 32  ephemeral X25519 public key E (raw)     36 12  nonce
 *   48 .. AES-256-GCM ciphertext ‖ 16-byte tag
 *   key = HKDF-SHA256(ikm = X25519(e, O), salt = E ‖ O, info = "goten/owner-box/v1 " ‖ purpose, 32 bytes)
 *   AAD = bytes [0, 48) ‖ purpose
 * A fresh ephemeral key per box makes the key single-use; O (the owner's raw public key) in the salt binds
 * the box to its recipient; the purpose ("model") in info and AAD stops a box for one use opening as another.
 */
import { createCipheriv, createDecipheriv, createPublicKey, diffieHellman, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChannelError, generateX25519, rawX25519, x25519FromRaw, x25519PrivateFromPem } from './channel.js';

const MAGIC = 'GOB1';
const HEAD = 48;
const TAG = 16;

function boxKey(shared: Buffer, eRaw: Buffer, oRaw: Buffer, purpose: string): Buffer {
  const k = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([eRaw, oRaw]), `goten/owner-box/v1 ${purpose}`, 32));
  shared.fill(0);
  return k;
}

/** Encrypts `plaintext` to the owner's X25519 public key. */
export function sealToOwner(ownerPublic: KeyObject, purpose: string, plaintext: Uint8Array): Uint8Array {
  const oRaw = rawX25519(ownerPublic);
  const eph = generateX25519();
  const eRaw = rawX25519(eph.publicKey);
  const key = boxKey(diffieHellman({ privateKey: eph.privateKey, publicKey: ownerPublic }), eRaw, oRaw, purpose);
  const head = Buffer.alloc(HEAD);
  head.write(MAGIC, 0, 'latin1');
  eRaw.copy(head, 4);
  randomBytes(12).copy(head, 36);
  const c = createCipheriv('aes-256-gcm', key, head.subarray(36, 48));
  c.setAAD(Buffer.concat([head, Buffer.from(purpose, 'utf8')]));
  const out = Buffer.concat([head, c.update(plaintext), c.final(), c.getAuthTag()]);
  key.fill(0);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Opens a box with the owner's private key; DECRYPT_FAILED if it is not for this key/purpose or was altered. */
export function openOwnerBox(ownerPrivate: KeyObject, purpose: string, box: Uint8Array): Buffer {
  const b = Buffer.from(box.buffer, box.byteOffset, box.byteLength);
  if (b.length < HEAD + TAG || b.toString('latin1', 0, 4) !== MAGIC) throw new ChannelError('MALFORMED', 'not an owner box (bad magic or too short)');
  const eRaw = b.subarray(4, 36);
  const oRaw = rawX25519(ownerPrivate);
  const key = boxKey(diffieHellman({ privateKey: ownerPrivate, publicKey: x25519FromRaw(eRaw, 'box ephemeral key') }), eRaw, oRaw, purpose);
  try {
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(36, 48));
    d.setAAD(Buffer.concat([b.subarray(0, HEAD), Buffer.from(purpose, 'utf8')]));
    d.setAuthTag(b.subarray(b.length - TAG));
    return Buffer.concat([d.update(b.subarray(HEAD, b.length - TAG)), d.final()]);
  } catch {
    throw new ChannelError('DECRYPT_FAILED', `the ${purpose} box does not open with this owner key (another owner's box, or altered)`);
  } finally {
    key.fill(0);
  }
}

export interface OwnerKeyFiles {
  keyFile: string;
  pubFile: string;
}

/** Writes NAME.key (0600, refuses to overwrite unless `force`) and NAME.pub into `dir`. */
export function writeOwnerKey(dir: string, name = 'owner', force = false): OwnerKeyFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, `${name}.key`);
  const pubFile = join(dir, `${name}.pub`);
  if (!force && existsSync(keyFile)) throw new Error(`${keyFile} exists (use --force to overwrite)`);
  const { privateKey, publicKey } = generateX25519();
  writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: force ? 'w' : 'wx' });
  writeFileSync(pubFile, publicKey.export({ format: 'pem', type: 'spki' }));
  return { keyFile, pubFile };
}

export function loadOwnerPrivateKey(file: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read owner key ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return x25519PrivateFromPem(pem, `owner key ${file}`);
}

/** An owner public key from a .pub (SPKI PEM) file — or the public half of a .key file. */
export function loadOwnerPublicKey(file: string): KeyObject {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read owner public key ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // createPublicKey would silently derive the public key from a private one: the owner's private key
  // must never be handed to the service's host, so a mix-up is refused
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new Error(`${file} holds a PRIVATE key; give the owner's public key (the .pub file of goten ownerkey) and keep the private key with the owner`);
  }
  let k: KeyObject;
  try {
    k = createPublicKey(text);
  } catch (e) {
    throw new Error(`${file} is not a PEM public key: ${(e as Error).message}`);
  }
  if (k.asymmetricKeyType !== 'x25519') throw new Error(`${file} holds a ${k.asymmetricKeyType} key; owner keys are X25519 (goten ownerkey)`);
  return k;
}

/** Hex of the raw owner public key: how the service config names the owner. */
export const ownerKeyHex = (k: KeyObject): string => rawX25519(k).toString('hex');
