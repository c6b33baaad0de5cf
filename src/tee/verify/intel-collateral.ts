/**
 * Intel DCAP collateral checks (docs/tee.md §2, step 7), on the dcap-qvl `QuoteCollateralV3` JSON format:
 * { pck_crl_issuer_chain, root_ca_crl (hex DER), pck_crl (hex DER), tcb_info_issuer_chain, tcb_info (the exact
 *   signed JSON text), tcb_info_signature (hex r‖s), qe_identity_issuer_chain, qe_identity, qe_identity_signature }.
 *
 * With collateral: TCB info and QE identity are verified (signature by Intel SGX TCB Signing, chained to a pinned
 * root, issueDate ≤ now ≤ nextUpdate), the QE is matched against the signed QE identity, CRLs are verified and
 * the PCK leaf / intermediate serials must not be listed, and the platform TCB level is looked up (first level,
 * in Intel's descending order, whose every component is ≤ the platform's) to produce the TCB status.
 * TDX: TEE_TCB_SVN against `tdxtcbcomponents` (components 0–1 skipped when TEE_TCB_SVN[1] > 0, as they are then
 * evaluated through the matching `tdxModuleIdentities` entry "TDX_<hex>"), and MRSIGNERSEAM/SEAMATTRIBUTES against
 * the module identity. This matching was validated against the two collateral fixtures only.
 */
import type { X509Certificate } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { fromHex, toHex } from '../bytes.js';
import { verifyCrl, normalizeSerial } from './crl.js';
import { verifyP1363 } from './ecdsa.js';
import { attributesBytes, maskedEqual, QE_IDENTITY, type IntelQuote } from './intel-quote.js';
import type { PckExtension } from './intel-pck.js';
import type { CheckLog } from './result.js';
import type { IntelCollateral } from './intel-collateral-format.js';
import { commonName, fingerprint, parsePemChain, requireSignedBy, requireValidAt } from './trust.js';

export type { IntelCollateral } from './intel-collateral-format.js';

interface TcbLevelJson {
  tcb: { sgxtcbcomponents?: { svn: number }[]; pcesvn?: number; tdxtcbcomponents?: { svn: number }[]; isvsvn?: number };
  tcbStatus: string;
  advisoryIDs?: string[];
}

function signedJson(text: string, sigHex: string, chainPem: string, roots: string[], now: Date, what: string): Record<string, any> {
  const chain = parsePemChain(chainPem, `${what} issuer chain`);
  const [signer, root] = chain;
  if (chain.length !== 2 || !roots.includes(fingerprint(root))) {
    throw new AttestationError('COLLATERAL', `${what} issuer chain must be [TCB Signing, pinned Intel SGX root]`);
  }
  requireSignedBy(signer, root, `${what} signing`);
  requireValidAt(signer, now, `${what} signing`);
  if (commonName(signer) !== 'Intel SGX TCB Signing') throw new AttestationError('COLLATERAL', `${what} signed by "${commonName(signer)}"`);
  if (!verifyP1363('sha256', Buffer.from(text, 'utf8'), signer.publicKey, fromHex(sigHex, `${what} signature`))) {
    throw new AttestationError('COLLATERAL', `${what} signature does not verify`);
  }
  const body = JSON.parse(text) as Record<string, any>;
  const from = new Date(body.issueDate);
  const to = new Date(body.nextUpdate);
  if (!(now >= from && now <= to)) {
    throw new AttestationError('COLLATERAL', `${what} is valid ${from.toISOString()} → ${to.toISOString()}, not at ${now.toISOString()}`);
  }
  return body;
}

const STATUS_RANK = ['UpToDate', 'SWHardeningNeeded', 'ConfigurationNeeded', 'ConfigurationAndSWHardeningNeeded', 'OutOfDate', 'OutOfDateConfigurationNeeded', 'Revoked'];
const worse = (a: string, b: string) => (STATUS_RANK.indexOf(b) > STATUS_RANK.indexOf(a) ? b : a);

export function applyIntelCollateral(
  q: IntelQuote,
  pck: PckExtension,
  certs: { leaf: X509Certificate; intermediate: X509Certificate; root: X509Certificate },
  c: IntelCollateral,
  now: Date,
  roots: string[],
  log: CheckLog,
): { status: string; detail: string } {
  // QE identity: the signed identity replaces the pinned constants.
  const qe = signedJson(c.qe_identity, c.qe_identity_signature, c.qe_identity_issuer_chain, roots, now, 'QE identity');
  const expectId = QE_IDENTITY[q.tee].id;
  if (qe.id !== expectId) throw new AttestationError('COLLATERAL', `QE identity is for "${qe.id}", the quote needs "${expectId}"`);
  const r = q.qeReport;
  const misc = Buffer.alloc(4);
  misc.writeUInt32LE(r.miscSelect);
  if (toHex(r.mrSigner) !== String(qe.mrsigner).toLowerCase() || r.isvProdId !== qe.isvprodid ||
      !maskedEqual(attributesBytes(r), String(qe.attributes).toLowerCase(), String(qe.attributesMask).toLowerCase()) ||
      !maskedEqual(misc, String(qe.miscselect).toLowerCase(), String(qe.miscselectMask).toLowerCase())) {
    throw new AttestationError('QE_IDENTITY', `QE report does not match Intel's signed ${expectId} identity`);
  }
  const qeLevel = (qe.tcbLevels as TcbLevelJson[]).find((l) => (l.tcb.isvsvn ?? 0) <= r.isvSvn);
  const qeStatus = qeLevel ? qeLevel.tcbStatus : 'OutOfDate';
  log.pass('qe-identity', `QE matches Intel's signed ${expectId} identity (QE ISVSVN ${r.isvSvn}: ${qeStatus})`);

  // Revocation: root CRL covers the intermediate, the PCK CRL (signed by the quote's intermediate) the leaf.
  const rootCrl = verifyCrl(fromHex(c.root_ca_crl, 'root CA CRL'), certs.root.publicKey, now, 'root CA CRL');
  const pckCrl = verifyCrl(fromHex(c.pck_crl, 'PCK CRL'), certs.intermediate.publicKey, now, 'PCK CRL');
  if (rootCrl.revoked.has(normalizeSerial(certs.intermediate.serialNumber))) throw new AttestationError('REVOKED', 'PCK intermediate CA is revoked');
  if (pckCrl.revoked.has(normalizeSerial(certs.leaf.serialNumber))) throw new AttestationError('REVOKED', 'PCK leaf certificate is revoked');
  log.pass('pck-crl', `PCK leaf and intermediate not revoked (verified CRLs with ${pckCrl.revoked.size} and ${rootCrl.revoked.size} entries)`);

  // Platform TCB level.
  const tcb = signedJson(c.tcb_info, c.tcb_info_signature, c.tcb_info_issuer_chain, roots, now, 'TCB info');
  const expectTcbId = q.tee === 'tdx' ? 'TDX' : 'SGX';
  if ((tcb.id ?? 'SGX') !== expectTcbId) throw new AttestationError('COLLATERAL', `TCB info is for "${tcb.id}", the quote needs "${expectTcbId}"`);
  if (String(tcb.fmspc).toLowerCase() !== pck.fmspc || String(tcb.pceId).toLowerCase() !== pck.pceId) {
    throw new AttestationError('COLLATERAL', `TCB info is for FMSPC ${tcb.fmspc}/PCE ${tcb.pceId}, the PCK certificate says ${pck.fmspc}/${pck.pceId}`);
  }
  const teeSvn = q.tdBody?.teeTcbSvn;
  const skipTdx = teeSvn && teeSvn[1] > 0 ? 2 : 0;
  const level = (tcb.tcbLevels as TcbLevelJson[]).find((l) => {
    const sgx = l.tcb.sgxtcbcomponents ?? [];
    if (sgx.some((comp, i) => pck.sgxTcbComponents[i] < comp.svn)) return false;
    if (pck.pceSvn < (l.tcb.pcesvn ?? 0)) return false;
    if (teeSvn) return (l.tcb.tdxtcbcomponents ?? []).every((comp, i) => i < skipTdx || teeSvn[i] >= comp.svn);
    return true;
  });
  if (!level) throw new AttestationError('TCB', `no TCB level in the TCB info matches this platform (FMSPC ${pck.fmspc})`);
  let status = level.tcbStatus;
  const advisories = new Set(level.advisoryIDs ?? []);
  if (teeSvn && skipTdx) {
    const modId = `TDX_${teeSvn[1].toString(16).padStart(2, '0').toUpperCase()}`;
    const mod = (tcb.tdxModuleIdentities ?? []).find((m: any) => m.id === modId);
    const seamAttr = Buffer.alloc(8);
    seamAttr.writeBigUInt64LE(q.tdBody!.seamAttributes);
    if (!mod || toHex(q.tdBody!.mrSignerSeam) !== String(mod.mrsigner).toLowerCase() ||
        !maskedEqual(seamAttr, String(mod.attributes).toLowerCase(), String(mod.attributesMask).toLowerCase())) {
      throw new AttestationError('TCB', `TDX module ${modId} does not match a TDX module identity in the TCB info`);
    }
    const modLevel = (mod.tcbLevels as TcbLevelJson[]).find((l) => (l.tcb.isvsvn ?? 0) <= teeSvn[0]);
    status = worse(status, modLevel ? modLevel.tcbStatus : 'OutOfDate');
    for (const a of modLevel?.advisoryIDs ?? []) advisories.add(a);
    log.pass('tdx-module-identity', `TDX module ${modId} (SVN ${teeSvn[0]}) matches the signed module identity`);
  } else if (q.tee === 'tdx') {
    log.skip('tdx-module-identity', 'TEE_TCB_SVN[1] = 0: module checked through tdxtcbcomponents only');
  }
  if (qeStatus !== 'UpToDate') status = worse(status, qeStatus === 'Revoked' ? 'Revoked' : 'OutOfDate');
  if (status === 'Revoked') throw new AttestationError('REVOKED', 'the platform TCB level is revoked');
  const adv = [...advisories].join(', ');
  const detail = `${status}${adv ? ` (${adv})` : ''}: signed TCB info #${tcb.tcbEvaluationDataNumber} for FMSPC ${pck.fmspc}`;
  log.pass('tcb-status', detail);
  return { status, detail };
}
