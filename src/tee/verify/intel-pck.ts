/**
 * PCK certificate chain validation and the Intel SGX PCK extension (OID 1.2.840.113741.1.13.1):
 * SEQUENCE of { OID, value } with .2 TCB (.2.1–.2.16 SGX TCB component SVNs, .2.17 PCESVN, .2.18 CPUSVN),
 * .3 PCE-ID (2 B), .4 FMSPC (6 B) — Intel's PCK certificate profile (docs/tee.md §2, sources). Needed for TCB level matching and reported as claims.
 */
import { X509Certificate } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { toHex } from '../bytes.js';
import { certExtensions, children, content, oidToString, readTlv, smallInt } from './der.js';
import { commonName, fingerprint, parsePemChain, requireSignedBy, requireValidAt } from './trust.js';
import type { CheckLog } from './result.js';

const SGX_EXT = '1.2.840.113741.1.13.1';

export interface PckExtension {
  fmspc: string;
  pceId: string;
  /** 16 SGX TCB component SVNs */
  sgxTcbComponents: number[];
  pceSvn: number;
  cpuSvn: string;
}

export function parsePckExtension(leaf: X509Certificate): PckExtension {
  const der = new Uint8Array(leaf.raw);
  const ext = certExtensions(der).get(SGX_EXT);
  if (!ext) throw new AttestationError('CERT_CHAIN', 'PCK leaf certificate has no SGX extension (1.2.840.113741.1.13.1)');
  const out: PckExtension = { fmspc: '', pceId: '', sgxTcbComponents: new Array(16).fill(0), pceSvn: 0, cpuSvn: '' };
  const top = readTlv(ext, 0);
  for (const item of children(ext, top)) {
    const [oidT, valT] = children(ext, item);
    const oid = oidToString(content(ext, oidT));
    if (oid === `${SGX_EXT}.4`) out.fmspc = toHex(content(ext, valT));
    else if (oid === `${SGX_EXT}.3`) out.pceId = toHex(content(ext, valT));
    else if (oid === `${SGX_EXT}.2`) {
      for (const comp of children(ext, valT)) {
        const [cOid, cVal] = children(ext, comp);
        const n = Number(oidToString(content(ext, cOid)).slice(`${SGX_EXT}.2.`.length));
        if (n >= 1 && n <= 16) out.sgxTcbComponents[n - 1] = smallInt(content(ext, cVal));
        else if (n === 17) out.pceSvn = smallInt(content(ext, cVal));
        else if (n === 18) out.cpuSvn = toHex(content(ext, cVal));
      }
    }
  }
  if (out.fmspc.length !== 12) throw new AttestationError('CERT_CHAIN', 'PCK SGX extension has no 6-byte FMSPC');
  return out;
}

/**
 * Validates certification data type 5 (PEM chain leaf ‖ intermediate ‖ root):
 * exactly three certificates; root byte-identical (by fingerprint) to a pinned Intel root and self-signed;
 * each link issued and signed by the next; all valid at `now`; CA flags and CNs as Intel issues them.
 * Returns the leaf and intermediate for the QE report signature and CRL checks.
 */
export function verifyPckChain(
  certType: number,
  certData: Uint8Array,
  roots: string[],
  now: Date,
  log: CheckLog,
): { leaf: X509Certificate; intermediate: X509Certificate; root: X509Certificate } {
  if (certType !== 5) {
    throw new AttestationError('UNSUPPORTED', `PCK certification data type ${certType}; only 5 (PEM chain) can be verified offline`);
  }
  const certs = parsePemChain(Buffer.from(certData).toString('latin1'), 'PCK chain');
  if (certs.length !== 3) throw new AttestationError('CERT_CHAIN', `PCK chain has ${certs.length} certificates, expected 3`);
  const [leaf, intermediate, root] = certs;
  if (!roots.includes(fingerprint(root))) {
    throw new AttestationError('CERT_CHAIN', `PCK chain root (${commonName(root)}, sha256 ${fingerprint(root)}) is not a pinned Intel SGX root`);
  }
  requireSignedBy(root, root, 'Intel SGX root');
  requireSignedBy(intermediate, root, 'PCK intermediate');
  requireSignedBy(leaf, intermediate, 'PCK leaf');
  for (const [c, role] of [[leaf, 'PCK leaf'], [intermediate, 'PCK intermediate'], [root, 'Intel SGX root']] as const) {
    requireValidAt(c, now, role);
  }
  const interCn = commonName(intermediate);
  if (!intermediate.ca || leaf.ca || !/^Intel SGX PCK (Processor|Platform) CA$/.test(interCn) || commonName(leaf) !== 'Intel SGX PCK Certificate') {
    throw new AttestationError('CERT_CHAIN', `PCK chain roles are wrong (leaf "${commonName(leaf)}" CA=${leaf.ca}, intermediate "${interCn}" CA=${intermediate.ca})`);
  }
  log.pass('pck-chain', `PCK leaf → ${interCn} → pinned Intel SGX Root CA, all valid at ${now.toISOString()}`);
  return { leaf, intermediate, root };
}
