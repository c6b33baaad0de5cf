/**
 * One entry point for every evidence kind: `verifyEvidence` detects the kind from the evidence bytes and
 * runs the matching verifier. It checks authenticity only (signatures, chains, identities); whether the
 * claims are acceptable is the policy's job (../policy.ts).
 */
import { detectKind, type AttestationReport } from '../evidence.js';
import { verifyIntelQuote } from './intel-verify.js';
import { certsFromBytes, verifySnpReport } from './snp-verify.js';
import { verifySimulatedReport } from './simulated.js';
import type { VerifiedEvidence } from './result.js';
import type { VerifyOptions } from './trust.js';
import type { IntelCollateral } from './intel-collateral.js';
import { AttestationError } from '../errors.js';

export type { VerifiedEvidence, EvidenceClaims, EvidenceKind, Check, Unchecked } from './result.js';
export type { VerifyOptions, TrustAnchors } from './trust.js';
export type { IntelCollateral } from './intel-collateral.js';

export function verifyEvidence(report: AttestationReport, opts: VerifyOptions = {}): VerifiedEvidence {
  const kind = detectKind(report.evidence);
  switch (kind) {
    case 'simulated':
      return verifySimulatedReport(report.evidence, opts);
    case 'sgx':
    case 'tdx': {
      let collateral = opts.collateral;
      if (!collateral && report.collateral) {
        try {
          collateral = JSON.parse(report.collateral) as IntelCollateral;
        } catch {
          throw new AttestationError('COLLATERAL', 'bundled collateral is not valid JSON');
        }
      }
      return verifyIntelQuote(report.evidence, { ...opts, collateral });
    }
    case 'sev-snp':
      return verifySnpReport(report.evidence, report.certs ? certsFromBytes(report.certs, 'SEV-SNP certificates') : [], opts);
  }
}
