/**
 * Offline verification of an AMD SEV-SNP report (docs/tee.md §2):
 *  1. chain VCEK → ASK → ARK with the ARK pinned by fingerprint (RSASSA-PSS links verified by node:crypto),
 *     all valid at `now`, CNs as AMD's KDS issues them — proves the VCEK belongs to a genuine AMD chip;
 *  2. SIGNING_KEY = 0 (VCEK; VLEK is not supported here);
 *  3. VCEK extensions match the report: TCB SPLs (1.3.6.1.4.1.3704.1.3.x) = REPORTED_TCB and hwID (.4) = CHIP_ID —
 *     so a VCEK for another chip or TCB level cannot vouch for this report;
 *  4. report signature: ECDSA P-384/SHA-384 over [0, 0x2A0) by the VCEK key.
 * Revocation (AMD KDS CRL) needs the network and is reported `unchecked`.
 */
import { X509Certificate } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { bytesEqual, isAllZero, toHex } from '../bytes.js';
import { certExtensions, readTlv, content, smallInt } from './der.js';
import { verifyP1363 } from './ecdsa.js';
import { CheckLog, type VerifiedEvidence } from './result.js';
import { parseSnpReport } from './snp-report.js';
import { commonName, fingerprint, requireSignedBy, requireValidAt, resolveTrust, type VerifyOptions } from './trust.js';

const AMD_EXT = '1.3.6.1.4.1.3704.1';

/** Accepts certificates as PEM blocks and/or DER certificates, in any mix and number (concatenated). */
export function certsFromBytes(b: Uint8Array, what: string): X509Certificate[] {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const out: X509Certificate[] = [];
  const BEGIN = '-----BEGIN CERTIFICATE-----';
  const END = '-----END CERTIFICATE-----';
  let p = 0;
  try {
    while (p < buf.length) {
      if (buf[p] === 0x30) {
        const t = readTlv(buf, p);
        out.push(new X509Certificate(buf.subarray(p, t.end)));
        p = t.end;
      } else if (buf.toString('latin1', p, p + BEGIN.length) === BEGIN) {
        const e = buf.indexOf(END, p);
        if (e < 0) throw new Error('unterminated PEM block');
        out.push(new X509Certificate(buf.subarray(p, e + END.length)));
        p = e + END.length;
      } else if (buf[p] <= 0x20) {
        p++; // whitespace / NUL between certificates
      } else {
        throw new Error(`unexpected byte 0x${buf[p].toString(16)} at ${p}`);
      }
    }
  } catch (e) {
    throw new AttestationError('CERT_CHAIN', `${what}: not a list of PEM/DER certificates (${(e as Error).message})`);
  }
  return out;
}

export function verifySnpReport(bytes: Uint8Array, certs: X509Certificate[], opts: VerifyOptions = {}): VerifiedEvidence {
  const now = opts.now ?? new Date();
  const trust = resolveTrust(opts.trust);
  const log = new CheckLog();
  const rep = parseSnpReport(bytes);
  log.pass('structure', `SEV-SNP report v${rep.version}, ${bytes.length} bytes`);
  if (((rep.policy >> 17n) & 1n) !== 1n) throw new AttestationError('MALFORMED', 'SEV-SNP POLICY bit 17 (reserved, must be 1) is clear');

  const vcek = certs.find((c) => commonName(c) === 'SEV-VCEK');
  const ark = certs.find((c) => commonName(c).startsWith('ARK-'));
  const ask = certs.find((c) => /^SEV-(?!VCEK|VLEK)/.test(commonName(c)));
  if (!vcek || !ask || !ark) throw new AttestationError('CERT_CHAIN', 'SEV-SNP evidence needs the VCEK, ASK and ARK certificates');
  const product = commonName(ark).slice(4);
  if (!trust.amdArkFingerprints.includes(fingerprint(ark))) {
    throw new AttestationError('CERT_CHAIN', `ARK (${commonName(ark)}, sha256 ${fingerprint(ark)}) is not a pinned AMD root`);
  }
  if (commonName(ask) !== `SEV-${product}`) throw new AttestationError('CERT_CHAIN', `ASK "${commonName(ask)}" does not belong to ${commonName(ark)}`);
  requireSignedBy(ark, ark, 'ARK');
  requireSignedBy(ask, ark, 'ASK');
  requireSignedBy(vcek, ask, 'VCEK');
  for (const [c, role] of [[vcek, 'VCEK'], [ask, 'ASK'], [ark, 'ARK']] as const) requireValidAt(c, now, role);
  if (vcek.publicKey.asymmetricKeyDetails?.namedCurve !== 'secp384r1') throw new AttestationError('CERT_CHAIN', 'VCEK key is not EC P-384');
  log.pass('vcek-chain', `VCEK → SEV-${product} → pinned ${commonName(ark)}, all valid at ${now.toISOString()}`);

  const signingKey = (rep.signerInfo >> 2) & 7;
  if (signingKey !== 0) throw new AttestationError('UNSUPPORTED', `SEV-SNP report signed with key type ${signingKey} (only 0 = VCEK supported)`);

  const ext = certExtensions(new Uint8Array(vcek.raw));
  const spl = (n: number): number => {
    const v = ext.get(`${AMD_EXT}.3.${n}`);
    if (!v) throw new AttestationError('CERT_CHAIN', `VCEK lacks TCB extension ${AMD_EXT}.3.${n}`);
    return smallInt(content(v, readTlv(v, 0)));
  };
  const t = rep.reportedTcb;
  const vcekTcb = [spl(1), spl(2), spl(3), spl(8)];
  const repTcb = [t[0], t[1], t[6], t[7]];
  if (vcekTcb.some((v, i) => v !== repTcb[i])) {
    throw new AttestationError('CERT_CHAIN', `VCEK is for TCB bl/tee/snp/ucode ${vcekTcb.join('/')}, the report's REPORTED_TCB is ${repTcb.join('/')}`);
  }
  log.pass('vcek-tcb', `VCEK TCB extensions equal REPORTED_TCB (bl ${t[0]}, tee ${t[1]}, snp ${t[6]}, ucode ${t[7]})`);
  const hwid = ext.get(`${AMD_EXT}.4`);
  if (isAllZero(rep.chipId)) {
    log.skip('vcek-hwid', 'CHIP_ID is masked (zero): the VCEK cannot be tied to this chip');
  } else if (!hwid || !bytesEqual(hwid, rep.chipId)) {
    throw new AttestationError('CERT_CHAIN', 'VCEK hwID does not equal the report CHIP_ID');
  } else {
    log.pass('vcek-hwid', 'VCEK hwID equals CHIP_ID');
  }

  if (!verifyP1363('sha384', rep.signedRegion, vcek.publicKey, rep.signatureP1363)) {
    throw new AttestationError('SIGNATURE', 'SEV-SNP report signature does not verify under the VCEK key');
  }
  log.pass('report-signature', 'report bytes 0..0x2A0 signed by the VCEK (ECDSA P-384/SHA-384)');
  log.skip('vcek-crl', 'AMD KDS CRL not available offline: ASK/VCEK revocation not checked');
  log.skip('tcb-status', 'no minimum TCB is evaluated by the verifier: compare fields.reported_tcb in policy `expect` if needed');

  const u64hex = (v: bigint) => '0x' + v.toString(16).padStart(16, '0');
  return {
    claims: {
      kind: 'sev-snp',
      format: `SEV-SNP attestation report v${rep.version}`,
      simulated: false,
      debug: ((rep.policy >> 19n) & 1n) === 1n,
      measurement: toHex(rep.measurement),
      svn: rep.guestSvn,
      reportData: toHex(rep.reportData),
      fields: {
        measurement: toHex(rep.measurement), policy: u64hex(rep.policy), vmpl: String(rep.vmpl), guest_svn: String(rep.guestSvn),
        family_id: toHex(rep.familyId), image_id: toHex(rep.imageId), host_data: toHex(rep.hostData),
        id_key_digest: toHex(rep.idKeyDigest), author_key_digest: toHex(rep.authorKeyDigest), report_id: toHex(rep.reportId),
        chip_id: toHex(rep.chipId), reported_tcb: toHex(rep.reportedTcb), current_tcb: u64hex(rep.currentTcb),
        committed_tcb: u64hex(rep.committedTcb), launch_tcb: u64hex(rep.launchTcb), platform_info: u64hex(rep.platformInfo),
        product,
      },
      tcb: { status: 'not-evaluated', detail: `REPORTED_TCB bl ${t[0]} tee ${t[1]} snp ${t[6]} ucode ${t[7]} (VCEK matches)` },
    },
    checks: log.checks,
    unchecked: log.unchecked,
    verifiedAt: now.toISOString(),
  };
}
