/**
 * Public API of the trust boundary (src/tee). See docs/tee.md.
 */
export { AttestationError, SealError } from './errors.js';
export type { AttestationErrorCode, SealErrorCode } from './errors.js';
export { DEFAULT_MEMORY_BUDGET_BYTES, reportData64 } from './provider.js';
export type { TeeKind, TeeProvider, CommonProviderOptions } from './provider.js';
export * from './providers/index.js';
export { encodeReport, decodeReport, detectKind } from './evidence.js';
export type { AttestationReport } from './evidence.js';
export { bindingReportData, publicKeyBytes, GOTEN_BINDING_LABEL } from './binding.js';
export type { KeyBinding, KeyBindingRule } from './binding.js';
export { parsePolicy, loadPolicy, verifyReport } from './policy.js';
export type { AttestationPolicy, PolicyVerdict, VerifyReportOptions } from './policy.js';
export { verifyEvidence } from './verify/index.js';
export type { VerifiedEvidence, EvidenceClaims, EvidenceKind, Check, Unchecked, VerifyOptions, TrustAnchors, IntelCollateral } from './verify/index.js';
export { Sealer, readSealedHeader, sealedLength, SEAL_UPDATE_BYTES } from './seal.js';
export type { SealContext, SealedHeader } from './seal.js';
export { SealedChunkStore, MemoryBacking, FileBacking } from './chunk-store.js';
export type { UntrustedBacking } from './chunk-store.js';
export { measureCodeBundle, defaultCodeRoot } from './measure.js';
