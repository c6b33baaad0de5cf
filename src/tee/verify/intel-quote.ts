/**
 * Parser for Intel DCAP ECDSA quotes: SGX quote v3 and TDX quote v4/v5.
 * Layouts per Intel's `sgx_quote_3.h`/`_4.h`/`_5.h` (docs/tee.md §2, sources); all integers little-endian,
 * ECDSA values big-endian r‖s / X‖Y. Parsing only: nothing here is trusted until verifyIntelQuote ran.
 *
 * Header (48 B): 0 version u16 · 2 att_key_type u16 (2 = ECDSA P-256) · 4 tee_type u32 (v4/v5: 0 SGX,
 *   0x81 TDX; v3: att_key_data_0) · 8 qe_svn u16 · 10 pce_svn u16 · 12 qe_vendor_id[16] · 28 user_data[20].
 * Body: v3 SGX report body (384 B) at 48; v4 TD report 1.0 (584 B) at 48; v5: descriptor type u16 + size u32
 *   at 48 (2 = TD 1.0, 3 = TD 1.5 of 648 B), body at 54. The quote signature covers header ‖ [descriptor] ‖ body.
 * Then signature_data_len u32 and signature data: quote signature (64) ‖ attestation key X‖Y (64) ‖
 *   v3: QE report certification data directly followed by cert data type 5;
 *   v4/v5: cert data type 6 (u16) + size (u32) wrapping the same QE report certification data.
 * QE report certification data: QE report (SGX report body, 384) ‖ QE report signature (64) ‖ auth data size u16 ‖
 *   auth data ‖ cert type u16 ‖ cert size u32 ‖ cert data (type 5 = PEM chain leaf ‖ intermediate ‖ root).
 */
import { AttestationError } from '../errors.js';
import { isAllZero, LeReader } from '../bytes.js';

export const INTEL_QE_VENDOR_ID = '939a7233f79c4ca9940a0db3957f0607';
export const TEE_TYPE_SGX = 0x00000000;
export const TEE_TYPE_TDX = 0x00000081;
export const SGX_REPORT_BODY_SIZE = 384;
export const TD10_BODY_SIZE = 584;
export const TD15_BODY_SIZE = 648;

/** SGX report body (384 B). Offsets relative to the body start. */
export interface SgxReportBody {
  cpuSvn: Uint8Array; // 0..16
  miscSelect: number; // 16 u32
  isvExtProdId: Uint8Array; // 32..48
  attributesFlags: bigint; // 48 u64: 0x01 INIT, 0x02 DEBUG, 0x04 MODE64BIT, 0x10 PROVISIONKEY, 0x20 EINITTOKEN
  xfrm: bigint; // 56 u64
  mrEnclave: Uint8Array; // 64..96
  mrSigner: Uint8Array; // 128..160
  configId: Uint8Array; // 192..256
  isvProdId: number; // 256 u16
  isvSvn: number; // 258 u16
  configSvn: number; // 260 u16
  isvFamilyId: Uint8Array; // 304..320
  reportData: Uint8Array; // 320..384
}

/** TD report body (TDX 1.0: 584 B; TDX 1.5 adds 64 B). Offsets relative to the body start. */
export interface TdReportBody {
  teeTcbSvn: Uint8Array; // 0..16
  mrSeam: Uint8Array; // 16..64
  mrSignerSeam: Uint8Array; // 64..112
  seamAttributes: bigint; // 112 u64
  tdAttributes: bigint; // 120 u64: bit 0 DEBUG, bit 28 SEPT_VE_DISABLE
  xfam: bigint; // 128 u64
  mrTd: Uint8Array; // 136..184
  mrConfigId: Uint8Array; // 184..232
  mrOwner: Uint8Array; // 232..280
  mrOwnerConfig: Uint8Array; // 280..328
  rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array]; // 328, 376, 424, 472 (48 each)
  reportData: Uint8Array; // 520..584
  teeTcbSvn2?: Uint8Array; // 1.5: 584..600
  mrServiceTd?: Uint8Array; // 1.5: 600..648
}

export interface IntelQuote {
  version: 3 | 4 | 5;
  tee: 'sgx' | 'tdx';
  attKeyType: number;
  qeSvn: number;
  pceSvn: number;
  qeVendorId: Uint8Array;
  userData: Uint8Array;
  sgxBody?: SgxReportBody;
  tdBody?: TdReportBody;
  /** bytes covered by the quote signature (header ‖ [v5 descriptor] ‖ body) */
  signedRegion: Uint8Array;
  signature: Uint8Array;
  attestationKey: Uint8Array;
  qeReportRaw: Uint8Array;
  qeReport: SgxReportBody;
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  certType: number;
  certData: Uint8Array;
  /** end of the quote as computed from its length fields */
  length: number;
  /** number of all-zero padding bytes after the quote (non-zero trailing bytes are refused) */
  zeroPadding: number;
}

export function parseSgxReportBody(b: Uint8Array, what: string): SgxReportBody {
  const r = new LeReader(b, what);
  r.need(0, SGX_REPORT_BODY_SIZE, 'report body');
  return {
    cpuSvn: r.bytes(0, 16, 'CPUSVN'),
    miscSelect: r.u32(16, 'MISCSELECT'),
    isvExtProdId: r.bytes(32, 16, 'ISVEXTPRODID'),
    attributesFlags: r.u64(48, 'ATTRIBUTES.FLAGS'),
    xfrm: r.u64(56, 'ATTRIBUTES.XFRM'),
    mrEnclave: r.bytes(64, 32, 'MRENCLAVE'),
    mrSigner: r.bytes(128, 32, 'MRSIGNER'),
    configId: r.bytes(192, 64, 'CONFIGID'),
    isvProdId: r.u16(256, 'ISVPRODID'),
    isvSvn: r.u16(258, 'ISVSVN'),
    configSvn: r.u16(260, 'CONFIGSVN'),
    isvFamilyId: r.bytes(304, 16, 'ISVFAMILYID'),
    reportData: r.bytes(320, 64, 'REPORTDATA'),
  };
}

function parseTdBody(b: Uint8Array, size: number): TdReportBody {
  const r = new LeReader(b, 'TD report body');
  r.need(0, size, 'TD report body');
  const body: TdReportBody = {
    teeTcbSvn: r.bytes(0, 16, 'TEE_TCB_SVN'),
    mrSeam: r.bytes(16, 48, 'MRSEAM'),
    mrSignerSeam: r.bytes(64, 48, 'MRSIGNERSEAM'),
    seamAttributes: r.u64(112, 'SEAMATTRIBUTES'),
    tdAttributes: r.u64(120, 'TDATTRIBUTES'),
    xfam: r.u64(128, 'XFAM'),
    mrTd: r.bytes(136, 48, 'MRTD'),
    mrConfigId: r.bytes(184, 48, 'MRCONFIGID'),
    mrOwner: r.bytes(232, 48, 'MROWNER'),
    mrOwnerConfig: r.bytes(280, 48, 'MROWNERCONFIG'),
    rtmr: [r.bytes(328, 48, 'RTMR0'), r.bytes(376, 48, 'RTMR1'), r.bytes(424, 48, 'RTMR2'), r.bytes(472, 48, 'RTMR3')],
    reportData: r.bytes(520, 64, 'REPORTDATA'),
  };
  if (size === TD15_BODY_SIZE) {
    body.teeTcbSvn2 = r.bytes(584, 16, 'TEE_TCB_SVN2');
    body.mrServiceTd = r.bytes(600, 48, 'MRSERVICETD');
  }
  return body;
}

/** Parses an SGX v3 or TDX v4/v5 quote. Throws MALFORMED/UNSUPPORTED AttestationErrors. */
export function parseIntelQuote(bytes: Uint8Array): IntelQuote {
  const r = new LeReader(bytes, 'Intel quote');
  r.need(0, 48, 'header');
  const version = r.u16(0, 'version');
  const attKeyType = r.u16(2, 'att_key_type');
  const teeType = r.u32(4, 'tee_type');
  if (attKeyType !== 2) {
    throw new AttestationError('UNSUPPORTED', `quote attestation key type ${attKeyType}; only 2 (ECDSA P-256) is defined for DCAP`);
  }
  let tee: 'sgx' | 'tdx';
  let bodyOff = 48;
  let bodySize: number;
  if (version === 3) {
    tee = 'sgx';
    bodySize = SGX_REPORT_BODY_SIZE;
  } else if (version === 4 || version === 5) {
    if (teeType !== TEE_TYPE_TDX) {
      throw new AttestationError('UNSUPPORTED', `quote v${version} with tee_type 0x${teeType.toString(16)}: only TDX uses v4/v5 here (SGX quotes are v3)`);
    }
    tee = 'tdx';
    bodySize = TD10_BODY_SIZE;
    if (version === 5) {
      const type = r.u16(48, 'body type');
      const size = r.u32(50, 'body size');
      const expected = type === 2 ? TD10_BODY_SIZE : type === 3 ? TD15_BODY_SIZE : -1;
      if (expected < 0) throw new AttestationError('UNSUPPORTED', `quote v5 body type ${type} (2 = TD 1.0, 3 = TD 1.5 supported)`);
      if (size !== expected) throw new AttestationError('MALFORMED', `quote v5 body type ${type} declares size ${size}, expected ${expected}`);
      bodyOff = 54;
      bodySize = size;
    }
  } else {
    throw new AttestationError('UNSUPPORTED', `Intel quote version ${version} (3 = SGX, 4/5 = TDX supported)`);
  }
  const bodyEnd = bodyOff + bodySize;
  const sigLen = r.u32(bodyEnd, 'signature_data_len');
  const sigOff = bodyEnd + 4;
  const end = sigOff + sigLen;
  r.need(sigOff, sigLen, 'signature data');
  const within = (off: number, len: number, field: string) => {
    if (off + len > end) throw new AttestationError('MALFORMED', `quote ${field} runs past signature_data_len`);
  };
  const signature = r.bytes(sigOff, 64, 'quote signature');
  const attestationKey = r.bytes(sigOff + 64, 64, 'attestation key');
  let p = sigOff + 128;
  if (version !== 3) {
    const outerType = r.u16(p, 'certification data type');
    const outerSize = r.u32(p + 2, 'certification data size');
    if (outerType !== 6) throw new AttestationError('UNSUPPORTED', `quote v${version} certification data type ${outerType}; expected 6 (QE report certification data)`);
    within(p + 6, outerSize, 'QE report certification data');
    p += 6;
  }
  within(p, 384 + 64 + 2, 'QE report');
  const qeReportRaw = r.bytes(p, 384, 'QE report');
  const qeReportSignature = r.bytes(p + 384, 64, 'QE report signature');
  const authLen = r.u16(p + 448, 'QE auth data size');
  within(p + 450, authLen + 6, 'QE auth data');
  const qeAuthData = r.bytes(p + 450, authLen, 'QE auth data');
  p += 450 + authLen;
  const certType = r.u16(p, 'PCK certification data type');
  const certSize = r.u32(p + 2, 'PCK certification data size');
  within(p + 6, certSize, 'PCK certification data');
  const certData = r.bytes(p + 6, certSize, 'PCK certification data');
  const trailing = r.buf.subarray(end);
  if (!isAllZero(trailing)) {
    throw new AttestationError('MALFORMED', `${trailing.length} bytes after the quote's end (offset ${end}) are not zero padding`);
  }
  const body = r.bytes(bodyOff, bodySize, 'report body');
  return {
    version: version as 3 | 4 | 5,
    tee,
    attKeyType,
    qeSvn: version === 3 ? r.u16(8, 'qe_svn') : 0,
    pceSvn: version === 3 ? r.u16(10, 'pce_svn') : 0,
    qeVendorId: r.bytes(12, 16, 'qe_vendor_id'),
    userData: r.bytes(28, 20, 'user_data'),
    sgxBody: tee === 'sgx' ? parseSgxReportBody(body, 'SGX report body') : undefined,
    tdBody: tee === 'tdx' ? parseTdBody(body, bodySize) : undefined,
    signedRegion: r.bytes(0, bodyEnd, 'signed region'),
    signature,
    attestationKey,
    qeReportRaw,
    qeReport: parseSgxReportBody(qeReportRaw, 'QE report'),
    qeReportSignature,
    qeAuthData,
    certType,
    certData,
    length: end,
    zeroPadding: trailing.length,
  };
}

/** Intel's QE and TD-QE identities (from Intel's signed QE identity in the dcap-qvl collateral, §3.4 step 6). */
export const QE_IDENTITY = {
  sgx: { id: 'QE', mrSigner: '8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff', isvProdId: 1 },
  tdx: { id: 'TD_QE', mrSigner: 'dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5', isvProdId: 2 },
} as const;
/** expected QE ATTRIBUTES (16 B) and mask: FLAGS byte 0 = 0x11 under mask 0xFB (MODE64BIT ignored), XFRM ignored */
export const QE_ATTRIBUTES = '11000000000000000000000000000000';
export const QE_ATTRIBUTES_MASK = 'fbffffffffffffff0000000000000000';

export function attributesBytes(r: SgxReportBody): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigUInt64LE(r.attributesFlags, 0);
  b.writeBigUInt64LE(r.xfrm, 8);
  return b;
}

export function maskedEqual(value: Uint8Array, expectedHex: string, maskHex: string): boolean {
  const e = Buffer.from(expectedHex, 'hex');
  const m = Buffer.from(maskHex, 'hex');
  if (value.length !== e.length || e.length !== m.length) return false;
  for (let i = 0; i < e.length; i++) if ((value[i] & m[i]) !== (e[i] & m[i])) return false;
  return true;
}
