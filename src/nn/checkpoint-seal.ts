/**
 * Sealed checkpoints: the encoded checkpoint wrapped in one AES-256-GCM blob
 * under the TEE provider's sealing key (src/tee/seal.ts), so that the host
 * that stores it can neither read nor alter it. The associated data carries
 * purpose "checkpoint", chunk id "training-state" and the global step as the
 * version; an altered, truncated or foreign blob is refused with a clear
 * error. Across process restarts the enclave keeps no record of the newest
 * step, so an older sealed checkpoint of the same key would be accepted on
 * resume (rolling back needs a trusted monotonic counter; docs/tee.md).
 */
import { readSealedHeader, type Sealer } from '../tee/seal.js';

export const CHECKPOINT_PURPOSE = 'checkpoint';
export const CHECKPOINT_CHUNK = 'training-state';

/** True if the bytes start like a sealed blob (cheap magic check, no decryption). */
export function looksSealed(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x47 && bytes[1] === 0x54 && bytes[2] === 0x53 && bytes[3] === 0x31; // "GTS1"
}

export function sealCheckpointBytes(sealer: Sealer, plain: Uint8Array, step: number): Uint8Array {
  return sealer.seal(plain, { purpose: CHECKPOINT_PURPOSE, chunkId: CHECKPOINT_CHUNK, version: step });
}

/** Opens a sealed checkpoint; the version is read from its (authenticated) header. */
export function openCheckpointBytes(sealer: Sealer, sealed: Uint8Array, name: string): Uint8Array {
  try {
    const { version } = readSealedHeader(sealed);
    return sealer.unseal(sealed, { purpose: CHECKPOINT_PURPOSE, chunkId: CHECKPOINT_CHUNK, version });
  } catch (err) {
    throw new Error(`${name}: the sealed checkpoint cannot be opened: ${(err as Error).message}`);
  }
}
