/**
 * A minimal self-signed X.509 v3 certificate for an Ed25519 identity key, built
 * by hand in DER (Node has no certificate-generation API, and we add no
 * dependencies and never shell out to openssl).
 *
 * The certificate only carries the public key into TLS: peers are authenticated
 * by PINNING that public key against the cluster config (src/net/tls.ts), never
 * by a CA chain, names or dates. So the certificate is deliberately boring and
 * deterministic for a given key:
 *
 *   Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertificate ::= SEQUENCE {
 *     version [0] EXPLICIT INTEGER 2 (v3), serialNumber (16 bytes of SHA-256(SPKI), positive),
 *     signature AlgorithmIdentifier { id-Ed25519 1.3.101.112 },
 *     issuer = subject = CN=<common name>,
 *     validity { 2024-01-01 00:00:00Z, 9999-12-31 23:59:59Z (RFC 5280 "no expiry") },
 *     subjectPublicKeyInfo (exactly as exported by node:crypto),
 *     extensions [3] { basicConstraints cA=FALSE (critical), keyUsage digitalSignature (critical) } }
 *
 * The signature is Ed25519 over the DER of tbsCertificate (deterministic).
 */
import { createHash, sign, type KeyObject } from 'node:crypto';

// ---- DER primitives ---------------------------------------------------------------

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const seq = (...c: Uint8Array[]): Buffer => tlv(0x30, ...c);
const set = (...c: Uint8Array[]): Buffer => tlv(0x31, ...c);
const octets = (c: Uint8Array): Buffer => tlv(0x04, c);
const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
const explicit = (n: number, c: Uint8Array): Buffer => tlv(0xa0 | n, c);
/** BIT STRING with zero unused bits. */
const bits = (c: Uint8Array): Buffer => tlv(0x03, Buffer.from([0]), c);

/** DER INTEGER from unsigned big-endian bytes (adds a 0x00 pad when the top bit is set). */
function uint(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = Buffer.from(bytes.subarray(i));
  return tlv(0x02, (b[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0] + parts[1]];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

const OID_ED25519 = '1.3.101.112';
const OID_COMMON_NAME = '2.5.4.3';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

// ---- the certificate --------------------------------------------------------------

/**
 * Build the DER of a self-signed certificate for an Ed25519 key pair.
 * `commonName` is informational only (e.g. "goten-w0"); it is never checked.
 */
export function selfSignedCertificateDer(privateKey: KeyObject, publicKey: KeyObject, commonName: string): Buffer {
  if (privateKey.asymmetricKeyType !== 'ed25519' || publicKey.asymmetricKeyType !== 'ed25519') {
    throw new Error('selfSignedCertificateDer: both keys must be Ed25519');
  }
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const serial = createHash('sha256').update(spki).digest().subarray(0, 16);
  serial[0] = (serial[0] & 0x7f) | 0x01; // positive and exactly 16 bytes
  const algorithm = seq(oid(OID_ED25519));
  const name = seq(set(seq(oid(OID_COMMON_NAME), utf8(commonName))));
  const validity = seq(
    tlv(0x17, Buffer.from('240101000000Z', 'ascii')), // UTCTime
    tlv(0x18, Buffer.from('99991231235959Z', 'ascii')), // GeneralizedTime: no expiry
  );
  const keyUsageDigitalSignature = bits(Buffer.from([0x80])); // bit 0 set
  // keyUsage BIT STRING must state 7 unused bits for a single named bit (DER minimal encoding).
  keyUsageDigitalSignature[2] = 7;
  const extensions = explicit(
    3,
    seq(
      seq(oid(OID_BASIC_CONSTRAINTS), TRUE, octets(seq())),
      seq(oid(OID_KEY_USAGE), TRUE, octets(keyUsageDigitalSignature)),
    ),
  );
  const tbs = seq(explicit(0, uint(Buffer.from([2]))), uint(serial), algorithm, name, validity, name, spki, extensions);
  const signature = sign(null, tbs, privateKey);
  return seq(tbs, algorithm, bits(signature));
}

/** PEM armour for a DER certificate (what node:tls takes as `cert`). */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
