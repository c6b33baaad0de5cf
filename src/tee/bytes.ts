/** Small byte helpers shared by the TEE code (little-endian readers, hex, comparisons). */
import { timingSafeEqual } from 'node:crypto';
import { AttestationError } from './errors.js';

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Parses a hex string (optional 0x prefix, case-insensitive); throws on odd length or bad digits. */
export function fromHex(hex: string, what = 'hex value'): Uint8Array {
  const h = hex.trim().replace(/^0x/i, '');
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new TypeError(`${what} is not valid hex`);
  return new Uint8Array(Buffer.from(h, 'hex'));
}

export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Equality of two byte strings; constant time when the lengths match. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(asBuffer(a), asBuffer(b));
}

export function isAllZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

/**
 * Bounds-checked little-endian reader over evidence bytes. Every read past the end throws a
 * MALFORMED AttestationError naming the field, so parsers never read garbage or crash.
 */
export class LeReader {
  readonly buf: Buffer;
  constructor(
    bytes: Uint8Array,
    readonly what: string,
  ) {
    this.buf = asBuffer(bytes);
  }
  need(off: number, len: number, field: string): void {
    if (off < 0 || len < 0 || off + len > this.buf.length) {
      throw new AttestationError(
        'MALFORMED',
        `${this.what}: field ${field} at ${off}+${len} lies past the end (${this.buf.length} bytes)`,
      );
    }
  }
  u16(off: number, field: string): number {
    this.need(off, 2, field);
    return this.buf.readUInt16LE(off);
  }
  u32(off: number, field: string): number {
    this.need(off, 4, field);
    return this.buf.readUInt32LE(off);
  }
  u64(off: number, field: string): bigint {
    this.need(off, 8, field);
    return this.buf.readBigUInt64LE(off);
  }
  bytes(off: number, len: number, field: string): Uint8Array {
    this.need(off, len, field);
    return new Uint8Array(this.buf.subarray(off, off + len));
  }
}
