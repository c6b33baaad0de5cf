/**
 * A minimal DER reader: enough to walk X.509 certificates and CRLs (node:crypto cannot read
 * arbitrary extensions or CRLs, docs/tee.md §2, sources). Definite lengths only, as DER requires.
 */
import { AttestationError } from '../errors.js';

export interface Tlv {
  tag: number;
  /** offset of the tag byte, of the content, and one past the end, in the parsed buffer */
  start: number;
  contentStart: number;
  end: number;
}

export function readTlv(buf: Uint8Array, off: number, limit = buf.length): Tlv {
  const bad = (why: string): never => {
    throw new AttestationError('MALFORMED', `DER: ${why} at offset ${off}`);
  };
  if (off + 2 > limit) bad('truncated header');
  const tag = buf[off];
  if ((tag & 0x1f) === 0x1f) bad('multi-byte tags are not supported');
  let len = buf[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) bad('unsupported length form');
    if (p + n > limit) bad('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    p += n;
  }
  if (p + len > limit) bad('content runs past its parent');
  return { tag, start: off, contentStart: p, end: p + len };
}

/** The children of a constructed TLV (SEQUENCE, SET, context tag). */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.contentStart; p < parent.end; ) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
  }
  return out;
}

export function content(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.contentStart, t.end);
}

/** Decodes an OBJECT IDENTIFIER's content to dotted form. */
export function oidToString(c: Uint8Array): string {
  if (c.length === 0) return '';
  const parts: number[] = [];
  const first = c[0];
  parts.push(first < 80 ? Math.floor(first / 40) : 2, first < 80 ? first % 40 : first - 80);
  let v = 0;
  for (let i = 1; i < c.length; i++) {
    v = v * 128 + (c[i] & 0x7f);
    if (!(c[i] & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** Decodes a non-negative INTEGER content of at most 6 bytes (SVNs, small counters). */
export function smallInt(c: Uint8Array): number {
  let v = 0;
  for (const b of c) v = v * 256 + b;
  return v;
}

/**
 * Extensions of an X.509 certificate (DER) as OID → extnValue content bytes (the OCTET STRING's
 * content). Certificate = SEQ { tbs SEQ { [0] version, serial, sigAlg, issuer, validity, subject, spki,
 * ..., [3] SEQ OF Extension } , ... }; Extension = SEQ { OID, [BOOLEAN critical], OCTET STRING }.
 */
export function certExtensions(der: Uint8Array): Map<string, Uint8Array> {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0];
  const out = new Map<string, Uint8Array>();
  const ext = children(der, tbs).find((t) => t.tag === 0xa3);
  if (!ext) return out;
  const seq = children(der, ext)[0];
  for (const e of children(der, seq)) {
    const kids = children(der, e);
    const oid = oidToString(content(der, kids[0]));
    out.set(oid, content(der, kids[kids.length - 1]));
  }
  return out;
}
