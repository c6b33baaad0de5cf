/**
 * Attestation policy: which evidence a client accepts before trusting an enclave.
 *
 * Policy file (JSON; unknown fields are refused, since a typo in a security setting must not silently relax it):
 * {
 *   "allowedKinds": ["sgx", "tdx", "sev-snp", "simulated"],   // "sgx-gramine" is accepted as an alias of "sgx"
 *   "measurements": ["<hex>", ...],        // MRENCLAVE / MRTD / SNP MEASUREMENT / simulated code hash; ["any"] = do not pin
 *   "signers": ["<hex>"],                  // optional: MRSIGNER (SGX) or simulated signer
 *   "minSvn": 0,                           // optional: ISVSVN / GUEST_SVN / simulated SVN lower bound
 *   "expect": { "rtmr0": "<hex>", "vmpl": "0", "mrconfigid": ["<hex>", ...] },   // optional exact claim values
 *   "allowDebug": false,                   // default false: debug enclaves/TDs/VMs expose their memory to the host
 *   "allowSimulated": false,               // default false: simulated evidence has no security
 *   "simulatedQuotingKeys": ["<hex raw Ed25519>"],  // which simulated quoting keys to trust (when allowed)
 *   "keyBinding": "goten-v1",              // goten-v1 | sha512 | sha256 | none (see binding.ts)
 *   "expectedReportData": "<hex>",         // optional: exact 64-byte report data (zero-padded)
 *   "acceptUnchecked": ["tcb-status", "pck-crl"],  // checks that could not be done offline and are accepted anyway
 *   "acceptedTcbStatuses": ["UpToDate"],   // when collateral was verified
 *   "trust": { "intelRootFingerprints": [...], "amdArkFingerprints": [...] },  // override pinned roots
 *   "verificationTime": "2026-06-01T00:00:00Z"  // optional: pin the clock (audits of old evidence, tests)
 * }
 */
import { readFileSync } from 'node:fs';
import { AttestationError } from './errors.js';
import { bytesEqual, fromHex, toHex } from './bytes.js';
import { bindingReportData, type KeyBinding, type KeyBindingRule } from './binding.js';
import { detectKind, type AttestationReport } from './evidence.js';
import { verifyEvidence } from './verify/index.js';
import type { Check, EvidenceClaims, EvidenceKind, Unchecked } from './verify/result.js';
import type { IntelCollateral } from './verify/intel-collateral.js';
import type { TrustAnchors } from './verify/trust.js';

export interface AttestationPolicy {
  allowedKinds: EvidenceKind[];
  measurements: string[];
  signers?: string[];
  minSvn?: number;
  expect?: Record<string, string | string[]>;
  allowDebug: boolean;
  allowSimulated: boolean;
  simulatedQuotingKeys: string[];
  keyBinding: KeyBindingRule | 'none';
  expectedReportData?: string;
  acceptUnchecked: string[];
  acceptedTcbStatuses: string[];
  trust?: Partial<Pick<TrustAnchors, 'intelRootFingerprints' | 'amdArkFingerprints'>>;
  verificationTime?: string;
}

const KINDS: EvidenceKind[] = ['simulated', 'sgx', 'tdx', 'sev-snp'];
const FIELDS = new Set([
  'allowedKinds', 'measurements', 'signers', 'minSvn', 'expect', 'allowDebug', 'allowSimulated', 'simulatedQuotingKeys',
  'keyBinding', 'expectedReportData', 'acceptUnchecked', 'acceptedTcbStatuses', 'trust', 'verificationTime', '$comment',
]);

function invalid(msg: string): never {
  throw new AttestationError('POLICY_INVALID', msg);
}
const hexList = (v: unknown, name: string): string[] => {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) invalid(`"${name}" must be a list of hex strings`);
  return (v as string[]).map((x) => {
    if (x === 'any') return x;
    try {
      return toHex(fromHex(x, `${name} entry`));
    } catch {
      return invalid(`"${name}" entry "${x}" is not hex`);
    }
  });
};

/** Validates a parsed policy object and fills in the (secure) defaults. */
export function parsePolicy(obj: unknown): AttestationPolicy {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) invalid('policy must be a JSON object');
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) invalid(`unknown policy field "${k}"`);
  const kinds = (o.allowedKinds ?? invalid('"allowedKinds" is required')) as unknown;
  if (!Array.isArray(kinds) || kinds.length === 0) invalid('"allowedKinds" must be a non-empty list');
  const allowedKinds = (kinds as unknown[]).map((k) => {
    const kk = k === 'sgx-gramine' ? 'sgx' : k;
    if (!KINDS.includes(kk as EvidenceKind)) invalid(`unknown kind "${String(k)}" (use ${KINDS.join(', ')})`);
    return kk as EvidenceKind;
  });
  const measurements = hexList(o.measurements ?? invalid('"measurements" is required (["any"] to not pin)'), 'measurements');
  if (measurements.length === 0) invalid('"measurements" is empty: no enclave could ever be accepted');
  const bool = (name: string) => {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') invalid(`"${name}" must be true or false`);
    return o[name] === true;
  };
  const strList = (name: string, dflt: string[]) => {
    const v = o[name] ?? dflt;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) invalid(`"${name}" must be a list of strings`);
    return v as string[];
  };
  const keyBinding = (o.keyBinding ?? 'goten-v1') as string;
  if (!['goten-v1', 'sha512', 'sha256', 'none'].includes(keyBinding)) invalid(`unknown keyBinding "${keyBinding}"`);
  if (o.minSvn !== undefined && !(Number.isInteger(o.minSvn) && (o.minSvn as number) >= 0)) invalid('"minSvn" must be a non-negative integer');
  if (o.verificationTime !== undefined && Number.isNaN(Date.parse(String(o.verificationTime)))) invalid('"verificationTime" is not a date');
  if (o.expect !== undefined && (typeof o.expect !== 'object' || Array.isArray(o.expect))) invalid('"expect" must be an object');
  return {
    allowedKinds,
    measurements,
    signers: o.signers === undefined ? undefined : hexList(o.signers, 'signers'),
    minSvn: o.minSvn as number | undefined,
    expect: o.expect as Record<string, string | string[]> | undefined,
    allowDebug: bool('allowDebug'),
    allowSimulated: bool('allowSimulated'),
    simulatedQuotingKeys: o.simulatedQuotingKeys === undefined ? [] : hexList(o.simulatedQuotingKeys, 'simulatedQuotingKeys'),
    keyBinding: keyBinding as AttestationPolicy['keyBinding'],
    expectedReportData: o.expectedReportData === undefined ? undefined : toHex(padTo64(hexList([o.expectedReportData], 'expectedReportData').map((h) => fromHex(h))[0])),
    acceptUnchecked: strList('acceptUnchecked', []),
    acceptedTcbStatuses: strList('acceptedTcbStatuses', ['UpToDate']),
    trust: o.trust as AttestationPolicy['trust'],
    verificationTime: o.verificationTime as string | undefined,
  };
}

export function loadPolicy(path: string): AttestationPolicy {
  let obj: unknown;
  try {
    obj = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    invalid(`cannot read policy ${path}: ${(e as Error).message}`);
  }
  return parsePolicy(obj);
}

export function padTo64(b: Uint8Array): Uint8Array {
  if (b.length > 64) throw new TypeError('report data is at most 64 bytes');
  const out = new Uint8Array(64);
  out.set(b);
  return out;
}

export interface VerifyReportOptions {
  /** the enclave public key (and nonce) the report data must bind; required unless keyBinding is "none" */
  expectedKeyBinding?: KeyBinding;
  collateral?: IntelCollateral;
  /** overrides policy.verificationTime and the clock */
  now?: Date;
}

export interface PolicyVerdict {
  ok: true;
  claims: EvidenceClaims;
  checks: Check[];
  /** items that were not checked and that the policy explicitly accepts */
  acceptedUnchecked: Unchecked[];
  verifiedAt: string;
}

/**
 * Verifies evidence and applies the policy. Returns the verdict, or throws an AttestationError whose code
 * says which rule refused (signature/chain errors come from the verifiers, the rest from here).
 */
export function verifyReport(report: AttestationReport, policy: AttestationPolicy, opts: VerifyReportOptions = {}): PolicyVerdict {
  const kind = detectKind(report.evidence);
  // Checked before any signature, with a distinct code, so that misconfiguration is obvious.
  if (kind === 'simulated' && !policy.allowSimulated) {
    throw new AttestationError('SIMULATED_EVIDENCE_REJECTED', 'the report comes from the SIMULATED TEE (no security) and the policy does not allow simulation');
  }
  if (!policy.allowedKinds.includes(kind)) throw new AttestationError('KIND_NOT_ALLOWED', `evidence kind "${kind}" is not in allowedKinds [${policy.allowedKinds.join(', ')}]`);
  const now = opts.now ?? (policy.verificationTime ? new Date(policy.verificationTime) : new Date());
  const v = verifyEvidence(report, {
    now,
    collateral: opts.collateral,
    trust: { ...policy.trust, simulatedQuotingKeys: policy.simulatedQuotingKeys },
  });
  const c = v.claims;
  if (c.debug && !policy.allowDebug) {
    throw new AttestationError('DEBUG_NOT_ALLOWED', `the ${c.kind} evidence has its DEBUG attribute set (the host can read its memory) and the policy does not allow debug`);
  }
  if (!policy.measurements.includes('any') && !policy.measurements.includes(c.measurement)) {
    throw new AttestationError('MEASUREMENT_MISMATCH', `measurement ${c.measurement} is not one of the ${policy.measurements.length} allowed by the policy`);
  }
  if (policy.signers && !(c.signer && policy.signers.includes(c.signer))) {
    throw new AttestationError('FIELD_MISMATCH', `signer ${c.signer ?? '(none)'} is not allowed by the policy`);
  }
  if (policy.minSvn !== undefined && (c.svn ?? -1) < policy.minSvn) {
    throw new AttestationError('SVN_TOO_LOW', `security version ${c.svn ?? '(none)'} is below the policy minimum ${policy.minSvn}`);
  }
  for (const [field, want] of Object.entries(policy.expect ?? {})) {
    const allowed = (Array.isArray(want) ? want : [want]).map((w) => w.toLowerCase());
    const got = c.fields[field];
    if (got === undefined || !allowed.includes(got.toLowerCase())) {
      throw new AttestationError('FIELD_MISMATCH', `claim "${field}" is ${got ?? '(absent)'}, the policy expects ${allowed.join(' or ')}`);
    }
  }
  if (c.tcb.status !== 'not-evaluated' && c.tcb.status !== 'simulated' && !policy.acceptedTcbStatuses.includes(c.tcb.status)) {
    throw new AttestationError('TCB', `platform TCB status ${c.tcb.detail ?? c.tcb.status} is not in acceptedTcbStatuses [${policy.acceptedTcbStatuses.join(', ')}]`);
  }
  const reportData = fromHex(c.reportData);
  if (policy.expectedReportData !== undefined && toHex(reportData) !== policy.expectedReportData) {
    throw new AttestationError('REPORT_DATA_MISMATCH', 'report data differs from the policy\'s expectedReportData');
  }
  if (policy.keyBinding !== 'none') {
    if (!opts.expectedKeyBinding) {
      throw new AttestationError('KEY_BINDING_MISSING', `the policy requires a ${policy.keyBinding} key binding but no expected public key was given`);
    }
    if (!bytesEqual(bindingReportData(policy.keyBinding, opts.expectedKeyBinding), reportData)) {
      throw new AttestationError('KEY_BINDING_MISMATCH', `report data does not bind the expected public key (rule ${policy.keyBinding}): the channel key is not the attested enclave's`);
    }
  }
  const notAccepted = v.unchecked.filter((u) => !policy.acceptUnchecked.includes(u.id) && !policy.acceptUnchecked.includes('*'));
  if (notAccepted.length) {
    throw new AttestationError('UNCHECKED_NOT_ACCEPTED', `not verified and not accepted by the policy: ${notAccepted.map((u) => `${u.id} (${u.reason})`).join('; ')}`);
  }
  return { ok: true, claims: c, checks: v.checks, acceptedUnchecked: v.unchecked, verifiedAt: v.verifiedAt };
}
