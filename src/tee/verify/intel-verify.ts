/**
 * Offline verification of Intel DCAP quotes (SGX v3, TDX v4/v5), docs/tee.md §2:
 *  1. structure (parseIntelQuote) and Intel's QE vendor id — rejects other quoting enclaves;
 *  2. PCK chain to a pinned Intel SGX root — proves the QE runs on a genuine, provisioned Intel platform;
 *  3. QE report signature by the PCK leaf key — proves the QE report comes from that platform's QE;
 *  4. QE report data = SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes — binds the attestation key to the QE;
 *  5. quote signature by the attestation key over header ‖ body — binds the enclave/TD report to all of the above;
 *  6. QE identity — the QE is Intel's (pinned MRSIGNER/ISVPRODID/attributes, or the signed QE identity collateral).
 * TCB level, revocation and TDX module identity need collateral; without it they are reported `unchecked`.
 */
import { AttestationError } from '../errors.js';
import { bytesEqual, isAllZero, toHex } from '../bytes.js';
import {
  attributesBytes, maskedEqual, parseIntelQuote, INTEL_QE_VENDOR_ID, QE_ATTRIBUTES, QE_ATTRIBUTES_MASK, QE_IDENTITY, type IntelQuote,
} from './intel-quote.js';
import { parsePckExtension, verifyPckChain } from './intel-pck.js';
import { p256KeyFromXY, sha256, verifyP1363 } from './ecdsa.js';
import { CheckLog, type EvidenceClaims, type VerifiedEvidence } from './result.js';
import { resolveTrust, type VerifyOptions } from './trust.js';
import { applyIntelCollateral } from './intel-collateral.js';

export function verifyIntelQuote(bytes: Uint8Array, opts: VerifyOptions = {}): VerifiedEvidence {
  const now = opts.now ?? new Date();
  const trust = resolveTrust(opts.trust);
  const log = new CheckLog();
  const q = parseIntelQuote(bytes);
  log.pass('structure', `DCAP quote v${q.version} (${q.tee.toUpperCase()}), ${q.length} bytes${q.zeroPadding ? ` + ${q.zeroPadding} zero padding` : ''}`);
  if (toHex(q.qeVendorId) !== INTEL_QE_VENDOR_ID) {
    throw new AttestationError('QE_IDENTITY', `QE vendor id ${toHex(q.qeVendorId)} is not Intel's (${INTEL_QE_VENDOR_ID})`);
  }
  log.pass('qe-vendor', "QE vendor id is Intel's");

  const { leaf, intermediate, root } = verifyPckChain(q.certType, q.certData, trust.intelRootFingerprints, now, log);
  if (!verifyP1363('sha256', q.qeReportRaw, leaf.publicKey, q.qeReportSignature)) {
    throw new AttestationError('SIGNATURE', 'QE report signature does not verify under the PCK leaf key');
  }
  log.pass('qe-report-signature', 'QE report signed by the PCK leaf key (ECDSA P-256/SHA-256)');

  const binding = sha256(q.attestationKey, q.qeAuthData);
  if (!bytesEqual(binding, q.qeReport.reportData.subarray(0, 32)) || !isAllZero(q.qeReport.reportData.subarray(32))) {
    throw new AttestationError('QE_BINDING', 'QE report data is not SHA-256(attestation key ‖ QE auth data) ‖ zeros');
  }
  log.pass('qe-binding', 'QE report data = SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes');

  if (!verifyP1363('sha256', q.signedRegion, p256KeyFromXY(q.attestationKey), q.signature)) {
    throw new AttestationError('SIGNATURE', 'quote signature over header and report body does not verify under the attestation key');
  }
  log.pass('quote-signature', `quote signature over bytes 0..${q.signedRegion.length} by the attestation key`);

  const pck = parsePckExtension(leaf);
  const expectQe = QE_IDENTITY[q.tee];
  let tcbStatus: { status: string; detail?: string } = { status: 'not-evaluated' };
  if (opts.collateral) {
    tcbStatus = applyIntelCollateral(q, pck, { leaf, intermediate, root }, opts.collateral, now, trust.intelRootFingerprints, log);
  } else {
    if (toHex(q.qeReport.mrSigner) !== expectQe.mrSigner || q.qeReport.isvProdId !== expectQe.isvProdId ||
        !maskedEqual(attributesBytes(q.qeReport), QE_ATTRIBUTES, QE_ATTRIBUTES_MASK)) {
      throw new AttestationError('QE_IDENTITY', `QE report is not Intel's ${expectQe.id} (MRSIGNER ${toHex(q.qeReport.mrSigner)}, ISVPRODID ${q.qeReport.isvProdId})`);
    }
    log.pass('qe-identity', `QE is Intel's ${expectQe.id} (pinned MRSIGNER, ISVPRODID ${expectQe.isvProdId}, non-debug attributes)`);
    log.skip('qe-identity-collateral', 'no signed QE identity supplied: QE TCB level (QE ISVSVN) not evaluated');
    log.skip('tcb-status', `no TCB info supplied for FMSPC ${pck.fmspc}: platform TCB status (UpToDate/OutOfDate/Revoked…) not evaluated`);
    log.skip('pck-crl', 'no PCK/root CRLs supplied: revocation of the PCK leaf and intermediate not checked');
    if (q.tee === 'tdx') log.skip('tdx-module-identity', 'no TDX TCB info supplied: TDX module (MRSIGNERSEAM, SEAMATTRIBUTES) not matched');
  }
  const claims = q.tee === 'sgx' ? sgxClaims(q) : tdxClaims(q);
  claims.fields.fmspc = pck.fmspc;
  claims.fields.pce_id = pck.pceId;
  claims.tcb = tcbStatus;
  return { claims, checks: log.checks, unchecked: log.unchecked, verifiedAt: now.toISOString() };
}

const u64hex = (v: bigint) => '0x' + v.toString(16).padStart(16, '0');

function sgxClaims(q: IntelQuote): EvidenceClaims {
  const b = q.sgxBody!;
  return {
    kind: 'sgx',
    format: `SGX DCAP quote v${q.version}`,
    simulated: false,
    debug: (b.attributesFlags & 0x2n) !== 0n,
    measurement: toHex(b.mrEnclave),
    signer: toHex(b.mrSigner),
    productId: b.isvProdId,
    svn: b.isvSvn,
    reportData: toHex(b.reportData),
    fields: {
      mrenclave: toHex(b.mrEnclave), mrsigner: toHex(b.mrSigner), isvprodid: String(b.isvProdId), isvsvn: String(b.isvSvn),
      attributes_flags: u64hex(b.attributesFlags), xfrm: u64hex(b.xfrm), miscselect: String(b.miscSelect),
      configid: toHex(b.configId), configsvn: String(b.configSvn), isvextprodid: toHex(b.isvExtProdId),
      isvfamilyid: toHex(b.isvFamilyId), cpusvn: toHex(b.cpuSvn), qe_svn: String(q.qeSvn), pce_svn: String(q.pceSvn),
    },
    tcb: { status: 'not-evaluated' },
  };
}

function tdxClaims(q: IntelQuote): EvidenceClaims {
  const b = q.tdBody!;
  const fields: Record<string, string> = {
    mrtd: toHex(b.mrTd), rtmr0: toHex(b.rtmr[0]), rtmr1: toHex(b.rtmr[1]), rtmr2: toHex(b.rtmr[2]), rtmr3: toHex(b.rtmr[3]),
    mrseam: toHex(b.mrSeam), mrsignerseam: toHex(b.mrSignerSeam), mrconfigid: toHex(b.mrConfigId), mrowner: toHex(b.mrOwner),
    mrownerconfig: toHex(b.mrOwnerConfig), tdattributes: u64hex(b.tdAttributes), xfam: u64hex(b.xfam),
    seamattributes: u64hex(b.seamAttributes), tee_tcb_svn: toHex(b.teeTcbSvn),
  };
  if (b.mrServiceTd) fields.mrservicetd = toHex(b.mrServiceTd);
  if (b.teeTcbSvn2) fields.tee_tcb_svn2 = toHex(b.teeTcbSvn2);
  return {
    kind: 'tdx',
    format: `TDX DCAP quote v${q.version}`,
    simulated: false,
    debug: (b.tdAttributes & 0x1n) !== 0n,
    measurement: toHex(b.mrTd),
    reportData: toHex(b.reportData),
    fields,
    tcb: { status: 'not-evaluated' },
  };
}
