/**
 * X.509 CRL parsing and signature verification with the DER reader (node:crypto has no CRL support).
 * CertificateList = SEQ { tbsCertList, signatureAlgorithm, signatureValue BIT STRING };
 * tbsCertList = SEQ { [version INTEGER], signature AlgId, issuer Name, thisUpdate Time, [nextUpdate Time],
 *   [revokedCertificates SEQ OF SEQ { serial INTEGER, revocationDate Time, [extensions] }], [[0] crlExtensions] }.
 * Intel's PCK and root CRLs are signed with ECDSA-with-SHA256 (DER signature inside the BIT STRING).
 */
import { verify, type KeyObject } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { children, content, readTlv, type Tlv } from './der.js';

export interface Crl {
  thisUpdate: Date;
  nextUpdate?: Date;
  /** revoked serial numbers, uppercase hex without leading zeros */
  revoked: Set<string>;
  tbs: Uint8Array;
  signature: Uint8Array;
}

export function normalizeSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '');
}

function parseTime(buf: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(content(buf, t)).toString('latin1');
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m || (t.tag !== 0x17 && t.tag !== 0x18)) throw new AttestationError('MALFORMED', `CRL: bad time "${s}"`);
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

export function parseCrl(der: Uint8Array): Crl {
  const top = readTlv(der, 0);
  const [tbsT, , sigT] = children(der, top);
  if (!tbsT || !sigT || sigT.tag !== 0x03) throw new AttestationError('MALFORMED', 'CRL: not a CertificateList');
  const fields = children(der, tbsT);
  let i = fields[0].tag === 0x02 ? 1 : 0; // optional version
  i += 2; // signature algorithm, issuer
  const thisUpdate = parseTime(der, fields[i++]);
  let nextUpdate: Date | undefined;
  if (fields[i] && (fields[i].tag === 0x17 || fields[i].tag === 0x18)) nextUpdate = parseTime(der, fields[i++]);
  const revoked = new Set<string>();
  if (fields[i] && fields[i].tag === 0x30) {
    for (const entry of children(der, fields[i])) {
      const serial = children(der, entry)[0];
      revoked.add(normalizeSerial(Buffer.from(content(der, serial)).toString('hex')));
    }
  }
  const bits = content(der, sigT);
  return { thisUpdate, nextUpdate, revoked, tbs: der.subarray(tbsT.start, tbsT.end), signature: bits.subarray(1) };
}

/** Parses and verifies a CRL: signed by `issuerKey`, current at `now`. Throws COLLATERAL otherwise. */
export function verifyCrl(der: Uint8Array, issuerKey: KeyObject, now: Date, what: string): Crl {
  const crl = parseCrl(der);
  let ok = false;
  try {
    ok = verify('sha256', crl.tbs, issuerKey, crl.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new AttestationError('COLLATERAL', `${what} is not signed by its expected issuer`);
  if (now < crl.thisUpdate || (crl.nextUpdate && now > crl.nextUpdate)) {
    throw new AttestationError('COLLATERAL', `${what} is valid ${crl.thisUpdate.toISOString()} → ${crl.nextUpdate?.toISOString()}, not at ${now.toISOString()}`);
  }
  return crl;
}
