/**
 * Trust anchors and verification options. Roots are pinned by the SHA-256 fingerprint of their DER
 * (docs/tee.md §2, sources): the evidence carries the certificates, and a chain is accepted
 * only if it ends in one of these exact certificates. Deployments may replace the lists (policy `trust`).
 */
import { X509Certificate } from 'node:crypto';
import { AttestationError } from '../errors.js';
import type { IntelCollateral } from './intel-collateral-format.js';

/** Intel SGX Root CA (CN=Intel SGX Root CA, serial 22650CD6…, valid 2018-05-21 → 2049-12-31). */
export const INTEL_SGX_ROOT_FINGERPRINT = '44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3';

/** AMD ARKs (self-signed RSA-4096, RSASSA-PSS SHA-384) and their ASKs, by product. */
export const AMD_ROOTS: Record<string, { ark: string; ask: string }> = {
  Milan: {
    ark: '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd',
    ask: '67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b',
  },
  Genoa: {
    ark: '4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1',
    ask: '5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521',
  },
};

export interface TrustAnchors {
  /** SHA-256 fingerprints (hex) of accepted Intel SGX root certificates */
  intelRootFingerprints: string[];
  /** SHA-256 fingerprints (hex) of accepted AMD ARK certificates */
  amdArkFingerprints: string[];
  /** raw 32-byte Ed25519 public keys (hex) of trusted simulated quoting keys; empty = none trusted */
  simulatedQuotingKeys: string[];
}

export const DEFAULT_TRUST: TrustAnchors = {
  intelRootFingerprints: [INTEL_SGX_ROOT_FINGERPRINT],
  amdArkFingerprints: Object.values(AMD_ROOTS).map((r) => r.ark),
  simulatedQuotingKeys: [],
};

export interface VerifyOptions {
  /** time at which certificates (and collateral) must be valid; default: now. Tests pin it. */
  now?: Date;
  trust?: Partial<TrustAnchors>;
  /** Intel collateral (dcap-qvl QuoteCollateralV3 JSON) for QE identity / TCB / CRL checks */
  collateral?: IntelCollateral;
}

export function resolveTrust(t?: Partial<TrustAnchors>): TrustAnchors {
  const norm = (xs: string[]) => xs.map((x) => x.toLowerCase().replace(/[^0-9a-f]/g, ''));
  return {
    intelRootFingerprints: norm(t?.intelRootFingerprints ?? DEFAULT_TRUST.intelRootFingerprints),
    amdArkFingerprints: norm(t?.amdArkFingerprints ?? DEFAULT_TRUST.amdArkFingerprints),
    simulatedQuotingKeys: norm(t?.simulatedQuotingKeys ?? DEFAULT_TRUST.simulatedQuotingKeys),
  };
}

export function fingerprint(cert: X509Certificate): string {
  return cert.fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Splits PEM text (possibly NUL-terminated, as in DCAP cert data) into certificates. */
export function parsePemChain(text: string, what: string): X509Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (e) {
    throw new AttestationError('CERT_CHAIN', `${what}: a certificate does not parse (${(e as Error).message})`);
  }
}

export function commonName(cert: X509Certificate): string {
  const line = cert.subject.split('\n').find((l) => l.startsWith('CN='));
  return line ? line.slice(3) : '';
}

/** Requires `cert` to be valid at `now`: an expired or not-yet-valid certificate breaks the chain. */
export function requireValidAt(cert: X509Certificate, now: Date, role: string): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now < from || now > to) {
    throw new AttestationError(
      'CERT_CHAIN',
      `${role} certificate (${commonName(cert)}) is valid ${from.toISOString()} → ${to.toISOString()}, not at ${now.toISOString()}`,
    );
  }
}

/** Requires `child` to be issued and signed by `parent` (issuer name match and signature). */
export function requireSignedBy(child: X509Certificate, parent: X509Certificate, role: string): void {
  if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) {
    throw new AttestationError('CERT_CHAIN', `${role} certificate (${commonName(child)}) is not signed by ${commonName(parent)}`);
  }
}
