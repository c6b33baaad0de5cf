/**
 * Parser for the AMD SEV-SNP attestation report (0x4A0 = 1184 bytes, AMD's SEV-SNP ABI specification
 * 56860; docs/tee.md §2). All integers little-endian. The ECDSA P-384 signature covers bytes [0x000, 0x2A0); R at 0x2A0 and
 * S at 0x2E8 are 72-byte little-endian zero-extended integers.
 */
import { AttestationError } from '../errors.js';
import { isAllZero, LeReader } from '../bytes.js';

export const SNP_REPORT_SIZE = 0x4a0;
export const SNP_SIGNED_SIZE = 0x2a0;

export interface SnpReport {
  version: number; // 0x000 u32 (2..5 seen)
  guestSvn: number; // 0x004 u32
  policy: bigint; // 0x008 u64: bit 17 reserved-must-be-1, bit 19 DEBUG
  familyId: Uint8Array; // 0x010 (16)
  imageId: Uint8Array; // 0x020 (16)
  vmpl: number; // 0x030 u32
  signatureAlgo: number; // 0x034 u32: 1 = ECDSA P-384 with SHA-384
  currentTcb: bigint; // 0x038 u64 TCB_VERSION
  platformInfo: bigint; // 0x040 u64
  signerInfo: number; // 0x048 u32: bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 2-4 SIGNING_KEY (0 VCEK, 1 VLEK)
  reportData: Uint8Array; // 0x050 (64)
  measurement: Uint8Array; // 0x090 (48)
  hostData: Uint8Array; // 0x0C0 (32)
  idKeyDigest: Uint8Array; // 0x0E0 (48)
  authorKeyDigest: Uint8Array; // 0x110 (48)
  reportId: Uint8Array; // 0x140 (32)
  reportIdMa: Uint8Array; // 0x160 (32)
  reportedTcb: Uint8Array; // 0x180 (8): byte 0 BL SPL, 1 TEE SPL, 6 SNP SPL, 7 microcode SPL (Milan/Genoa)
  chipId: Uint8Array; // 0x1A0 (64)
  committedTcb: bigint; // 0x1E0 u64
  launchTcb: bigint; // 0x1F0 u64
  signedRegion: Uint8Array; // [0, 0x2A0)
  /** the signature as big-endian r‖s (48 + 48 bytes), ready for IEEE-P1363 verification */
  signatureP1363: Uint8Array;
}

/** AMD stores r and s little-endian in 72 bytes; P-384 values must fit in 48 (the high 24 bytes are zero). */
function beScalar(le: Uint8Array, name: string): Uint8Array {
  const be = Uint8Array.from(le).reverse();
  if (!isAllZero(be.subarray(0, 24))) throw new AttestationError('MALFORMED', `SNP signature ${name} does not fit in 48 bytes`);
  return be.subarray(24);
}

export function parseSnpReport(bytes: Uint8Array): SnpReport {
  const r = new LeReader(bytes, 'SEV-SNP report');
  r.need(0, SNP_REPORT_SIZE, 'report');
  if (!isAllZero(r.buf.subarray(SNP_REPORT_SIZE))) {
    throw new AttestationError('MALFORMED', `SEV-SNP report has ${r.buf.length - SNP_REPORT_SIZE} non-zero bytes after 0x4A0`);
  }
  const version = r.u32(0, 'VERSION');
  if (version < 2 || version > 5) throw new AttestationError('UNSUPPORTED', `SEV-SNP report version ${version} (2..5 supported)`);
  const signatureAlgo = r.u32(0x34, 'SIGNATURE_ALGO');
  if (signatureAlgo !== 1) throw new AttestationError('UNSUPPORTED', `SEV-SNP signature algorithm ${signatureAlgo} (1 = ECDSA P-384/SHA-384 supported)`);
  const sig = new Uint8Array(96);
  sig.set(beScalar(r.bytes(0x2a0, 72, 'SIGNATURE.R'), 'R'), 0);
  sig.set(beScalar(r.bytes(0x2e8, 72, 'SIGNATURE.S'), 'S'), 48);
  return {
    version,
    guestSvn: r.u32(0x04, 'GUEST_SVN'),
    policy: r.u64(0x08, 'POLICY'),
    familyId: r.bytes(0x10, 16, 'FAMILY_ID'),
    imageId: r.bytes(0x20, 16, 'IMAGE_ID'),
    vmpl: r.u32(0x30, 'VMPL'),
    signatureAlgo,
    currentTcb: r.u64(0x38, 'CURRENT_TCB'),
    platformInfo: r.u64(0x40, 'PLATFORM_INFO'),
    signerInfo: r.u32(0x48, 'signer info'),
    reportData: r.bytes(0x50, 64, 'REPORT_DATA'),
    measurement: r.bytes(0x90, 48, 'MEASUREMENT'),
    hostData: r.bytes(0xc0, 32, 'HOST_DATA'),
    idKeyDigest: r.bytes(0xe0, 48, 'ID_KEY_DIGEST'),
    authorKeyDigest: r.bytes(0x110, 48, 'AUTHOR_KEY_DIGEST'),
    reportId: r.bytes(0x140, 32, 'REPORT_ID'),
    reportIdMa: r.bytes(0x160, 32, 'REPORT_ID_MA'),
    reportedTcb: r.bytes(0x180, 8, 'REPORTED_TCB'),
    chipId: r.bytes(0x1a0, 64, 'CHIP_ID'),
    committedTcb: r.u64(0x1e0, 'COMMITTED_TCB'),
    launchTcb: r.u64(0x1f0, 'LAUNCH_TCB'),
    signedRegion: r.bytes(0, SNP_SIGNED_SIZE, 'signed region'),
    signatureP1363: sig,
  };
}
