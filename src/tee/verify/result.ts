/**
 * The normalized outcome of evidence verification, shared by every TEE kind (docs/tee.md §2–§3),
 * so that one policy function evaluates SGX, TDX, SEV-SNP and simulated evidence alike.
 *
 * `checks` lists what WAS verified (cryptographically or structurally); `unchecked` lists what a
 * complete verification would also need but could not be done with the inputs given (usually
 * collateral that is only available online: TCB info, CRLs). A check is never reported as passed
 * unless the code in this directory actually performed it.
 */

export type EvidenceKind = 'simulated' | 'sgx' | 'tdx' | 'sev-snp';

export interface Check {
  id: string;
  detail: string;
}

export interface Unchecked {
  id: string;
  reason: string;
}

export interface EvidenceClaims {
  kind: EvidenceKind;
  /** human label of the evidence format, e.g. "SGX DCAP quote v3" */
  format: string;
  simulated: boolean;
  debug: boolean;
  /** primary measurement, lowercase hex: MRENCLAVE (SGX), MRTD (TDX), MEASUREMENT (SNP), code hash (simulated) */
  measurement: string;
  /** identity of the code signer where the format has one (MRSIGNER; simulated: quoting-key hash) */
  signer?: string;
  productId?: number;
  svn?: number;
  /** the 64 bytes of caller data bound by the evidence, lowercase hex */
  reportData: string;
  /** every other parsed claim by name (hex for bytes, decimal for integers) for policy `expect` rules */
  fields: Record<string, string>;
  /** TCB status: 'not-evaluated' unless collateral was verified; 'simulated' for the simulated TEE */
  tcb: { status: string; detail?: string };
}

export interface VerifiedEvidence {
  claims: EvidenceClaims;
  checks: Check[];
  unchecked: Unchecked[];
  /** the time certificate validity was evaluated at (ISO 8601) */
  verifiedAt: string;
}

/** Collects passed checks and explicitly unchecked items while a verifier runs. */
export class CheckLog {
  readonly checks: Check[] = [];
  readonly unchecked: Unchecked[] = [];
  pass(id: string, detail: string): void {
    this.checks.push({ id, detail });
  }
  skip(id: string, reason: string): void {
    this.unchecked.push({ id, reason });
  }
}
