/**
 * `AttestationReport`: what a provider's `attest()` returns and what travels to a verifier — the raw
 * evidence plus what is needed to check it offline (SEV-SNP certificates, optional Intel collateral).
 *
 * File/wire container ("report.bin"):
 *   0  8  magic ASCII "GOTENATT"
 *   8  4  header length H (u32 LE)
 *  12  H  header JSON {"v":1,"kind":...,"simulated":...,"parts":{"evidence":n,"certs":n,"collateral":n}}
 *  ..     the parts' bytes in that order.
 * The header is only a table of contents: the verifier derives the kind from the evidence bytes themselves,
 * so a lying header cannot turn one kind into another. Raw evidence files (a bare DCAP quote or SNP report)
 * are accepted too; their kind is detected from their own header.
 */
import { AttestationError } from './errors.js';
import { asBuffer } from './bytes.js';
import { isSimulatedReport } from './verify/simulated.js';
import type { EvidenceKind } from './verify/result.js';

export interface AttestationReport {
  kind: EvidenceKind;
  /** the quote (SGX/TDX), report (SEV-SNP) or simulated report bytes */
  evidence: Uint8Array;
  /** certificates that come with the evidence (SEV-SNP: VCEK, ASK, ARK as PEM or DER) */
  certs?: Uint8Array;
  /** Intel collateral JSON (dcap-qvl QuoteCollateralV3 format), if the attester bundled it */
  collateral?: string;
  simulated: boolean;
}

const MAGIC = 'GOTENATT';
const MAX_HEADER = 4096;

/** Detects the evidence kind from the evidence bytes (never from a container header). */
export function detectKind(ev: Uint8Array): EvidenceKind {
  const b = asBuffer(ev);
  if (isSimulatedReport(b)) return 'simulated';
  if (b.length >= 48) {
    const version = b.readUInt16LE(0);
    const ecdsaP256 = b.readUInt16LE(2) === 2; // DCAP att_key_type; an SNP report has 0 here (high half of VERSION)
    if (version === 3 && ecdsaP256) return 'sgx';
    if ((version === 4 || version === 5) && ecdsaP256 && b.readUInt32LE(4) === 0x81) return 'tdx';
  }
  if (b.length >= 0x4a0) {
    const version = b.readUInt32LE(0);
    if (version >= 2 && version <= 5 && b.readUInt32LE(0x34) === 1) return 'sev-snp';
  }
  throw new AttestationError('MALFORMED', 'evidence is neither a DCAP quote, an SEV-SNP report, a simulated report nor a GOTENATT container');
}

export function encodeReport(r: AttestationReport): Uint8Array {
  const certs = r.certs ?? new Uint8Array(0);
  const coll = Buffer.from(r.collateral ?? '', 'utf8');
  const header = Buffer.from(
    JSON.stringify({ v: 1, kind: r.kind, simulated: r.simulated, parts: { evidence: r.evidence.length, certs: certs.length, collateral: coll.length } }),
    'utf8',
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  return new Uint8Array(Buffer.concat([Buffer.from(MAGIC, 'latin1'), len, header, asBuffer(r.evidence), asBuffer(certs), coll]));
}

/** Decodes a GOTENATT container, or wraps raw evidence. Throws MALFORMED on inconsistent lengths. */
export function decodeReport(bytes: Uint8Array): AttestationReport {
  const b = asBuffer(bytes);
  if (b.length < 12 || b.subarray(0, 8).toString('latin1') !== MAGIC) {
    const kind = detectKind(b);
    return { kind, evidence: new Uint8Array(b), simulated: kind === 'simulated' };
  }
  const hlen = b.readUInt32LE(8);
  if (hlen > MAX_HEADER || 12 + hlen > b.length) throw new AttestationError('MALFORMED', 'attestation container header length is out of range');
  let parts: { evidence: number; certs: number; collateral: number };
  try {
    const h = JSON.parse(b.subarray(12, 12 + hlen).toString('utf8'));
    parts = h.parts;
    if (h.v !== 1 || ![parts.evidence, parts.certs, parts.collateral].every((n) => Number.isSafeInteger(n) && n >= 0)) throw new Error('bad parts');
  } catch {
    throw new AttestationError('MALFORMED', 'attestation container header is not valid');
  }
  let p = 12 + hlen;
  if (p + parts.evidence + parts.certs + parts.collateral !== b.length) {
    throw new AttestationError('MALFORMED', 'attestation container parts do not add up to its length (truncated or padded)');
  }
  const take = (n: number) => new Uint8Array(b.subarray(p, (p += n)));
  const evidence = take(parts.evidence);
  const certs = take(parts.certs);
  const collateral = Buffer.from(take(parts.collateral)).toString('utf8');
  const kind = detectKind(evidence);
  return {
    kind,
    evidence,
    certs: certs.length ? certs : undefined,
    collateral: collateral || undefined,
    simulated: kind === 'simulated',
  };
}
