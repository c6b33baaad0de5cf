/**
 * Sealing: AES-256-GCM under a provider-derived key, one random 96-bit IV per sealed chunk, and the chunk's
 * identity (purpose/stream, chunk id, version, length, IV) in the authenticated header — so a blob can only
 * be opened as exactly the chunk, version and stream it was sealed as (docs/tee.md §7).
 *
 * Sealed blob layout (all integers little-endian):
 *   0  4  magic ASCII "GTS1"
 *   4  2  purpose length P (u16)      6  2  chunk id length I (u16)
 *   8  8  version (u64)              16  8  plaintext length L (u64)
 *  24 12  IV
 *  36  P  purpose (UTF-8)         36+P  I  chunk id (UTF-8)
 *   H = 36+P+I: ciphertext (L bytes), then the 16-byte GCM tag.
 * AAD = bytes [0, H): the whole header. The header is readable by the host but cannot be changed without
 * failing authentication; it is read before decryption only to give precise refusal reasons.
 *
 * The cipher writes straight into the blob (`seal(…, out)` can take a caller's reusable buffer) and
 * unsealing straight into the caller's `into` (aead.ts: native when the addon is built, else node:crypto),
 * so the hot path — chunks the memory manager seals and restores every step — allocates nothing per chunk.
 */
import { hkdfSync, randomFillSync } from 'node:crypto';
import { aead } from './aead.js';
import { SealError } from './errors.js';
import { asBuffer } from './bytes.js';

export interface SealContext {
  /** stream / purpose name, e.g. "checkpoint", "dataset:mnist", "mask-products" */
  purpose: string;
  chunkId: string;
  /** monotonically increasing version of this chunk id (replay protection is the caller's record of it) */
  version: number;
}

export interface SealedHeader extends SealContext {
  plaintextLength: number;
  headerLength: number;
}

const MAGIC = 'GTS1';
const FIXED = 36;
const TAG = 16;
export { SEAL_UPDATE_BYTES } from './aead.js';

/** Parses the (unauthenticated until decryption) header of a sealed blob. */
export function readSealedHeader(blob: Uint8Array): SealedHeader {
  const b = asBuffer(blob);
  if (b.length < FIXED) throw new SealError(b.length >= 4 && b.toString('latin1', 0, 4) === MAGIC ? 'TRUNCATED' : 'MALFORMED', `sealed blob of ${b.length} bytes is shorter than its header`);
  if (b.toString('latin1', 0, 4) !== MAGIC) throw new SealError('MALFORMED', 'not a sealed blob (bad magic)');
  const p = b.readUInt16LE(4);
  const i = b.readUInt16LE(6);
  const version = Number(b.readBigUInt64LE(8));
  const plaintextLength = Number(b.readBigUInt64LE(16));
  const headerLength = FIXED + p + i;
  if (b.length < headerLength) throw new SealError('TRUNCATED', 'sealed blob is shorter than its header');
  return {
    purpose: b.toString('utf8', FIXED, FIXED + p),
    chunkId: b.toString('utf8', FIXED + p, headerLength),
    version,
    plaintextLength,
    headerLength,
  };
}

export class Sealer {
  /** The raw AES-256 key (never logged; lives only in this object). */
  private constructor(private readonly key: Buffer) {}

  /** Derives the AES-256 key with HKDF-SHA256 from provider key material (never stored or logged). */
  static derive(ikm: Uint8Array, salt: string, info: string): Sealer {
    return new Sealer(Buffer.from(hkdfSync('sha256', asBuffer(ikm), salt, info, 32)));
  }

  static fromKey(key32: Uint8Array): Sealer {
    if (key32.length !== 32) throw new TypeError('AES-256 key must be 32 bytes');
    return new Sealer(Buffer.from(key32));
  }

  /**
   * Seals `plaintext` as chunk `ctx`. The blob is written into `out` when given (at least
   * `sealedLength(plaintext.length, ctx)` bytes; the returned view is its prefix), else into a new buffer.
   */
  seal(plaintext: Uint8Array, ctx: SealContext, out?: Uint8Array): Uint8Array {
    if (!Number.isSafeInteger(ctx.version) || ctx.version < 0) throw new TypeError('seal version must be a non-negative safe integer');
    // header fields written in place: nothing is allocated per chunk when `out` is given
    const p = Buffer.byteLength(ctx.purpose, 'utf8');
    const i = Buffer.byteLength(ctx.chunkId, 'utf8');
    if (p > 0xffff || i > 0xffff) throw new TypeError('purpose and chunk id must each be < 64 KiB');
    const h = FIXED + p + i;
    const total = h + plaintext.length + TAG;
    if (out !== undefined && out.length < total) throw new RangeError(`seal: output buffer of ${out.length} bytes, ${total} needed`);
    const b = out === undefined ? Buffer.allocUnsafe(total) : asBuffer(out).subarray(0, total);
    b.write(MAGIC, 0, 'latin1');
    b.writeUInt16LE(p, 4);
    b.writeUInt16LE(i, 6);
    b.writeBigUInt64LE(BigInt(ctx.version), 8);
    b.writeBigUInt64LE(BigInt(plaintext.length), 16);
    randomFillSync(b, 24, 12);
    b.write(ctx.purpose, FIXED, 'utf8');
    b.write(ctx.chunkId, FIXED + p, 'utf8');
    const ctEnd = h + plaintext.length;
    aead().seal(this.key, b.subarray(24, 36), b.subarray(0, h), plaintext, b.subarray(h, ctEnd), b.subarray(ctEnd, total));
    return new Uint8Array(b.buffer, b.byteOffset, total);
  }

  /**
   * Opens a blob that must be exactly `expected` (purpose, chunk id, version). Refusals, in order:
   * MALFORMED/TRUNCATED (header), PURPOSE_MISMATCH, SWAPPED (other id), REPLAYED (older version),
   * FUTURE_VERSION, TRUNCATED (length), ALTERED (GCM tag). No plaintext is returned unless the tag verifies.
   * `into` optionally receives the plaintext (must have exactly its length), e.g. a pooled work buffer.
   */
  unseal(blob: Uint8Array, expected: SealContext, into?: Uint8Array): Uint8Array {
    const hdr = readSealedHeader(blob);
    const what = `chunk "${expected.chunkId}" of "${expected.purpose}"`;
    if (hdr.purpose !== expected.purpose) throw new SealError('PURPOSE_MISMATCH', `${what}: the blob belongs to stream "${hdr.purpose}"`);
    if (hdr.chunkId !== expected.chunkId) throw new SealError('SWAPPED', `${what}: the blob holds chunk "${hdr.chunkId}" (swapped chunk)`);
    if (hdr.version < expected.version) throw new SealError('REPLAYED', `${what}: the blob is version ${hdr.version}, the latest is ${expected.version} (replayed chunk)`);
    if (hdr.version > expected.version) throw new SealError('FUTURE_VERSION', `${what}: the blob claims version ${hdr.version}, the latest recorded is ${expected.version}`);
    const b = asBuffer(blob);
    const want = hdr.headerLength + hdr.plaintextLength + TAG;
    if (b.length !== want) throw new SealError('TRUNCATED', `${what}: blob is ${b.length} bytes, its header says ${want} (truncated or extended)`);
    const out = into ? asBuffer(into) : Buffer.allocUnsafe(hdr.plaintextLength);
    if (out.length !== hdr.plaintextLength) throw new TypeError(`unseal target must be ${hdr.plaintextLength} bytes`);
    const ok = aead().open(this.key, b.subarray(24, 36), b.subarray(0, hdr.headerLength), b.subarray(hdr.headerLength, want - TAG), b.subarray(want - TAG, want), out);
    if (!ok) throw new SealError('ALTERED', `${what}: authentication failed (altered ciphertext or header, or another key)`);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }
}

/** Sealed size for a plaintext of `n` bytes under `ctx` (header + ciphertext + tag). */
export function sealedLength(n: number, ctx: Pick<SealContext, 'purpose' | 'chunkId'>): number {
  return FIXED + Buffer.byteLength(ctx.purpose) + Buffer.byteLength(ctx.chunkId) + n + TAG;
}
