/**
 * Error types of the trust boundary. Every refusal carries a stable machine-readable
 * `code` (for tests, logs and exit codes) and a human sentence saying what failed and why
 * that matters. Messages never contain key material.
 */

/** Why an attestation report was refused. */
export type AttestationErrorCode =
  | 'MALFORMED' // bytes do not parse as the claimed format
  | 'UNSUPPORTED' // a format/version/key type this verifier does not handle
  | 'CERT_CHAIN' // certificate chain does not lead to a pinned root, or a cert is invalid at the verification time
  | 'SIGNATURE' // a signature in the evidence does not verify
  | 'QE_BINDING' // the Quoting Enclave report does not bind the attestation key
  | 'QE_IDENTITY' // the quote was not produced by Intel's (TD-)Quoting Enclave
  | 'COLLATERAL' // supplied collateral (TCB info, QE identity, CRL) fails its own checks
  | 'REVOKED' // a certificate is listed in a verified CRL
  | 'TCB' // the platform's TCB level is not accepted
  | 'KIND_NOT_ALLOWED'
  | 'SIMULATED_EVIDENCE_REJECTED' // simulated evidence while the policy does not allow simulation
  | 'UNTRUSTED_SIMULATED_KEY' // simulated evidence signed by a quoting key the policy does not list
  | 'DEBUG_NOT_ALLOWED'
  | 'MEASUREMENT_MISMATCH'
  | 'FIELD_MISMATCH' // another pinned claim (signer, RTMR, VMPL, ...) differs
  | 'SVN_TOO_LOW'
  | 'REPORT_DATA_MISMATCH'
  | 'KEY_BINDING_MISMATCH'
  | 'KEY_BINDING_MISSING' // the policy requires a key binding but the caller gave no key to compare
  | 'UNCHECKED_NOT_ACCEPTED' // some check could not be done offline and the policy does not accept that
  | 'POLICY_INVALID'
  | 'PROVIDER'; // a provider could not produce evidence

export class AttestationError extends Error {
  override readonly name = 'AttestationError';
  constructor(
    readonly code: AttestationErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Why a sealed blob was refused. */
export type SealErrorCode =
  | 'MALFORMED' // not a sealed blob of this format
  | 'TRUNCATED' // shorter (or longer) than its header says / than the trusted record
  | 'SWAPPED' // the blob belongs to another chunk id
  | 'PURPOSE_MISMATCH' // the blob belongs to another stream/purpose
  | 'REPLAYED' // an older version than the latest one recorded inside the trusted side
  | 'FUTURE_VERSION' // a newer version than recorded: forged or out-of-band
  | 'ALTERED' // AES-GCM authentication failed (ciphertext, header or key differ)
  | 'MISSING' // the untrusted backing lost the chunk
  | 'UNKNOWN_CHUNK' // the trusted side has no record of this id
  | 'NO_KEY'; // the provider has no sealing key source

export class SealError extends Error {
  override readonly name = 'SealError';
  constructor(
    readonly code: SealErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
