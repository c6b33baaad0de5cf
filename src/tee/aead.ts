/**
 * AES-256-GCM with caller-provided outputs, the primitive under sealing (seal.ts). Two implementations that
 * give identical bytes (tested):
 *
 * - `native`: the addon's aesGcmSeal/aesGcmOpen (Node's own OpenSSL, linked through the addon), writing
 *   straight into the caller's buffer: no allocation per call. Sealing the enclave's chunks moves hundreds
 *   of MiB per training step once parameters are sealed too (docs/memory.md), and every allocated byte of
 *   that is garbage the process keeps resident until V8 collects it.
 * - `node`: node:crypto, whose Cipher.update() returns a fresh Buffer per call (fed ≤ 64 KiB at a time:
 *   one huge update is ~20× slower because of page faults on its fresh output). The fallback when the
 *   addon is not built, and the reference.
 *
 * GOTEN_AEAD=node forces the fallback.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { loadNativeAddon } from '../addon/addon.js';
import { asBuffer } from './bytes.js';

export const SEAL_UPDATE_BYTES = 64 * 1024;

export interface Aead {
  readonly name: 'native' | 'node';
  /** out ← AES-256-GCM(key, iv, aad; plain) (out.length = plain.length); returns nothing, writes the tag. */
  seal(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array, out: Uint8Array, tag: Uint8Array): void;
  /** out ← plaintext and true when the tag verifies; false (out zeroed) otherwise. */
  open(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, ct: Uint8Array, tag: Uint8Array, out: Uint8Array): boolean;
}

export const nodeAead: Aead = {
  name: 'node',
  seal(key, iv, aad, plain, out, tag) {
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad);
    const src = asBuffer(plain);
    const dst = asBuffer(out);
    let w = 0;
    for (let off = 0; off < src.length; off += SEAL_UPDATE_BYTES) {
      w += cipher.update(src.subarray(off, Math.min(src.length, off + SEAL_UPDATE_BYTES))).copy(dst, w);
    }
    cipher.final().copy(dst, w);
    tag.set(cipher.getAuthTag());
  },
  open(key, iv, aad, ct, tag, out) {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const src = asBuffer(ct);
    const dst = asBuffer(out);
    let w = 0;
    try {
      for (let off = 0; off < src.length; off += SEAL_UPDATE_BYTES) {
        w += decipher.update(src.subarray(off, Math.min(src.length, off + SEAL_UPDATE_BYTES))).copy(dst, w);
      }
      decipher.final();
      return true;
    } catch {
      dst.fill(0);
      return false;
    }
  },
};

let chosen: Aead | undefined;

/** The native implementation when the addon has it (and GOTEN_AEAD is not 'node'), else node:crypto. */
export function aead(): Aead {
  if (chosen) return chosen;
  const l = process.env.GOTEN_AEAD === 'node' ? null : loadNativeAddon();
  const a = l?.ok ? l.addon : null;
  if (a && typeof a.aesGcmSeal === 'function' && typeof a.aesGcmOpen === 'function' && a.aeadAvailable?.() === true) {
    chosen = { name: 'native', seal: a.aesGcmSeal.bind(a), open: a.aesGcmOpen.bind(a) };
  } else {
    chosen = nodeAead;
  }
  return chosen;
}

/** The native implementation if available (tests compare it with nodeAead), else null. */
export function nativeAead(): Aead | null {
  const a = aead();
  return a.name === 'native' ? a : null;
}
