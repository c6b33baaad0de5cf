/**
 * The simulated TEE's report format ("GOTEN-SIMULATED!", 296 bytes), produced by the `simulated` provider
 * and checked by the same verifier/policy path as real evidence. All integers little-endian.
 *
 * | off | size | field |
 * |   0 | 16 | magic ASCII "GOTEN-SIMULATED!" (real verifiers reject it: not an Intel/AMD format) |
 * |  16 |  2 | format version u16 = 1 |
 * |  18 |  2 | flags u16: bit 0 DEBUG, bit 1 SIMULATED — both always set, so production policies refuse it twice |
 * |  20 |  4 | reserved, zero |
 * |  24 | 32 | MEASUREMENT: SHA-256 over the enclave code bundle (see measure.ts) |
 * |  56 | 32 | SIGNER: SHA-256 of the raw quoting public key |
 * |  88 |  2 | PRODUCT_ID u16 |
 * |  90 |  2 | SVN u16 |
 * |  92 |  4 | reserved, zero |
 * |  96 |  8 | TIMESTAMP u64, ms since the Unix epoch (informational; not a freshness guarantee) |
 * | 104 | 64 | REPORT_DATA (caller data, zero-padded) |
 * | 168 | 32 | LABEL ASCII "SIMULATED TEE - NO SECURITY", zero-padded |
 * | 200 | 32 | QUOTING_KEY: raw Ed25519 public key |
 * | 232 | 64 | SIGNATURE: Ed25519 over "goten-simulated-report-v1\0" ‖ bytes [0, 232) |
 *
 * The signature only proves possession of the quoting key, which lives in a plain file: the verifier accepts
 * it only if the key is listed in the trust anchors (policy `simulatedQuotingKeys`) — and the policy must
 * also allow simulation and debug explicitly.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { AttestationError } from '../errors.js';
import { asBuffer, LeReader, toHex } from '../bytes.js';
import { sha256 } from './ecdsa.js';
import { CheckLog, type VerifiedEvidence } from './result.js';
import { resolveTrust, type VerifyOptions } from './trust.js';

export const SIM_MAGIC = 'GOTEN-SIMULATED!';
export const SIM_LABEL = 'SIMULATED TEE - NO SECURITY';
export const SIM_REPORT_SIZE = 296;
const SIGNED_SIZE = 232;
const DOMAIN = Buffer.from('goten-simulated-report-v1\0', 'latin1');
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface SimulatedReportFields {
  measurement: Uint8Array; // 32 bytes
  productId: number;
  svn: number;
  timestampMs: number;
  reportData: Uint8Array; // ≤ 64 bytes, zero-padded
}

export function ed25519RawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

export function ed25519KeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, asBuffer(raw)]), format: 'der', type: 'spki' });
}

/** Builds and signs a simulated report with the quoting private key. */
export function buildSimulatedReport(f: SimulatedReportFields, quotingKey: KeyObject, quotingPublic: KeyObject): Uint8Array {
  if (f.measurement.length !== 32) throw new TypeError('simulated measurement must be 32 bytes');
  if (f.reportData.length > 64) throw new TypeError('report data is at most 64 bytes');
  const b = Buffer.alloc(SIM_REPORT_SIZE);
  b.write(SIM_MAGIC, 0, 'latin1');
  b.writeUInt16LE(1, 16);
  b.writeUInt16LE(0b11, 18);
  b.set(f.measurement, 24);
  const pub = ed25519RawPublicKey(quotingPublic);
  b.set(sha256(pub), 56);
  b.writeUInt16LE(f.productId, 88);
  b.writeUInt16LE(f.svn, 90);
  b.writeBigUInt64LE(BigInt(f.timestampMs), 96);
  b.set(f.reportData, 104);
  b.write(SIM_LABEL, 168, 'latin1');
  b.set(pub, 200);
  b.set(sign(null, Buffer.concat([DOMAIN, b.subarray(0, SIGNED_SIZE)]), quotingKey), SIGNED_SIZE);
  return new Uint8Array(b);
}

export function isSimulatedReport(bytes: Uint8Array): boolean {
  return bytes.length >= 16 && asBuffer(bytes).subarray(0, 16).toString('latin1') === SIM_MAGIC;
}

export function verifySimulatedReport(bytes: Uint8Array, opts: VerifyOptions = {}): VerifiedEvidence {
  const now = opts.now ?? new Date();
  const trust = resolveTrust(opts.trust);
  const log = new CheckLog();
  const r = new LeReader(bytes, 'simulated report');
  if (!isSimulatedReport(bytes) || bytes.length !== SIM_REPORT_SIZE) {
    throw new AttestationError('MALFORMED', `not a ${SIM_REPORT_SIZE}-byte simulated report`);
  }
  const version = r.u16(16, 'version');
  const flags = r.u16(18, 'flags');
  const label = r.buf.subarray(168, 200).toString('latin1').replace(/\0+$/, '');
  if (version !== 1 || flags !== 0b11 || label !== SIM_LABEL) {
    throw new AttestationError('MALFORMED', 'simulated report lacks its version, DEBUG|SIMULATED flags or label');
  }
  const pub = r.bytes(200, 32, 'QUOTING_KEY');
  const signer = r.bytes(56, 32, 'SIGNER');
  if (toHex(sha256(pub)) !== toHex(signer)) throw new AttestationError('MALFORMED', 'simulated report SIGNER is not the hash of its quoting key');
  log.pass('structure', 'simulated report v1 (DEBUG and SIMULATED flags set)');
  const ok = verify(null, Buffer.concat([DOMAIN, r.buf.subarray(0, SIGNED_SIZE)]), ed25519KeyFromRaw(pub), r.buf.subarray(SIGNED_SIZE));
  if (!ok) throw new AttestationError('SIGNATURE', 'simulated report signature does not verify under its quoting key');
  log.pass('report-signature', 'Ed25519 signature by the embedded quoting key');
  if (!trust.simulatedQuotingKeys.includes(toHex(pub))) {
    throw new AttestationError('UNTRUSTED_SIMULATED_KEY', `simulated quoting key ${toHex(pub)} is not in the policy's simulatedQuotingKeys`);
  }
  log.pass('quoting-key', 'quoting key is a trusted simulated quoting key');
  const measurement = toHex(r.bytes(24, 32, 'MEASUREMENT'));
  const productId = r.u16(88, 'PRODUCT_ID');
  const svn = r.u16(90, 'SVN');
  const ts = Number(r.u64(96, 'TIMESTAMP'));
  return {
    claims: {
      kind: 'simulated',
      format: 'Goten simulated report v1',
      simulated: true,
      debug: true,
      measurement,
      signer: toHex(signer),
      productId,
      svn,
      reportData: toHex(r.bytes(104, 64, 'REPORT_DATA')),
      fields: { measurement, signer: toHex(signer), quoting_key: toHex(pub), productid: String(productId), svn: String(svn), timestamp: new Date(ts).toISOString() },
      tcb: { status: 'simulated' },
    },
    checks: log.checks,
    unchecked: log.unchecked,
    verifiedAt: now.toISOString(),
  };
}
