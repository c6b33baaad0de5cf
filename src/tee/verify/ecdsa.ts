/** ECDSA helpers over raw encodings found in TEE evidence. */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { asBuffer } from '../bytes.js';

const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** A P-256 public key from the 64-byte big-endian X‖Y found in DCAP quotes (SPKI = prefix ‖ 04 ‖ X ‖ Y). */
export function p256KeyFromXY(xy: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([P256_SPKI_PREFIX, Buffer.from([4]), asBuffer(xy)]), format: 'der', type: 'spki' });
}

/** Verifies a raw r‖s (IEEE P1363) ECDSA signature; false (never throws) on any mismatch. */
export function verifyP1363(hash: 'sha256' | 'sha384', data: Uint8Array, key: KeyObject, rs: Uint8Array): boolean {
  try {
    return verify(hash, asBuffer(data), { key, dsaEncoding: 'ieee-p1363' }, asBuffer(rs));
  } catch {
    return false;
  }
}

export function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}
