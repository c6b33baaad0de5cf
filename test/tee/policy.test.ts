import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeReport, encodeReport, loadPolicy, parsePolicy, verifyReport, type AttestationReport, type IntelCollateral,
} from '../../src/tee/index.js';
import { fixture, fixtureText, PINNED_NOW, throwsCode } from './helpers.js';

const S1: AttestationReport = decodeReport(fixture('sgx/dcap-qvl-sgx_quote.bin'));
const T6: AttestationReport = decodeReport(fixture('tdx/teekit-tdx-v4-trustee-debug.bin'));
const snp = (report: string, vcek: string): AttestationReport => ({
  ...decodeReport(fixture(report)),
  certs: Buffer.concat([fixture(vcek), fixture('sev-snp/amd-ask-ark-milan.pem')]),
});
const P1 = snp('sev-snp/go-sev-guest-attestation-debug.bin', 'sev-snp/go-sev-guest-vcek.der');
const P4 = snp('sev-snp/teekit-sev-gcp-x25519-bound.bin', 'sev-snp/teekit-sev-gcp-x25519-vcek.pem');
const S1_MR = '33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb';
const P4_MR = 'b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3';
const hello = Buffer.from('Hello, world!').toString('hex');

const base = (over: Record<string, unknown> = {}) =>
  parsePolicy({
    allowedKinds: ['sgx-gramine', 'tdx', 'sev-snp'],
    measurements: [S1_MR],
    keyBinding: 'none',
    acceptUnchecked: ['qe-identity-collateral', 'tcb-status', 'pck-crl', 'tdx-module-identity', 'vcek-crl'],
    verificationTime: PINNED_NOW.toISOString(),
    ...over,
  });

test('accepts S1 under a policy pinning its MRENCLAVE, with the unchecked items listed as accepted', () => {
  const v = verifyReport(S1, base({ expectedReportData: hello, signers: ['815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6'] }));
  assert.equal(v.ok, true);
  assert.equal(v.claims.measurement, S1_MR);
  assert.deepEqual(v.acceptedUnchecked.map((u) => u.id), ['qe-identity-collateral', 'tcb-status', 'pck-crl']);
});

test('refuses: measurement mismatch, kind not allowed, signer, svn, expect field, report data', () => {
  throwsCode(() => verifyReport(S1, base({ measurements: ['11'.repeat(32)] })), 'MEASUREMENT_MISMATCH', new RegExp(S1_MR));
  throwsCode(() => verifyReport(S1, base({ allowedKinds: ['tdx'] })), 'KIND_NOT_ALLOWED');
  throwsCode(() => verifyReport(S1, base({ signers: ['22'.repeat(32)] })), 'FIELD_MISMATCH', /signer/);
  throwsCode(() => verifyReport(S1, base({ minSvn: 1 })), 'SVN_TOO_LOW');
  throwsCode(() => verifyReport(P4, base({ measurements: [P4_MR], expect: { vmpl: '0' } })), 'FIELD_MISMATCH', /vmpl/);
  throwsCode(() => verifyReport(S1, base({ expectedReportData: '00' })), 'REPORT_DATA_MISMATCH');
});

test('refuses debug evidence unless allowDebug (TDX debug TD, SNP debug policy)', () => {
  throwsCode(() => verifyReport(T6, base({ measurements: ['any'] })), 'DEBUG_NOT_ALLOWED', /tdx/);
  throwsCode(() => verifyReport(P1, base({ measurements: ['any'] })), 'DEBUG_NOT_ALLOWED', /sev-snp/);
  assert.equal(verifyReport(P1, base({ measurements: ['any'], allowDebug: true })).claims.debug, true);
});

test('key binding: P4 binds SHA-512(nonce ‖ X25519 key); another key or nonce is refused; missing key is refused', () => {
  const kv = Object.fromEntries(fixtureText('sev-snp/teekit-sev-gcp-x25519-bound.txt').trim().split('\n').map((l) => l.split('=')));
  const key = Buffer.from(kv.X25519_KEY, 'hex');
  const nonce = Buffer.from(kv.NONCE, 'hex');
  const pol = base({ measurements: [P4_MR], keyBinding: 'sha512' });
  assert.equal(verifyReport(P4, pol, { expectedKeyBinding: { publicKey: key, nonce } }).ok, true);
  const otherKey = Buffer.from(key);
  otherKey[0] ^= 1;
  throwsCode(() => verifyReport(P4, pol, { expectedKeyBinding: { publicKey: otherKey, nonce } }), 'KEY_BINDING_MISMATCH');
  throwsCode(() => verifyReport(P4, pol, { expectedKeyBinding: { publicKey: key } }), 'KEY_BINDING_MISMATCH');
  throwsCode(() => verifyReport(P4, pol), 'KEY_BINDING_MISSING');
  throwsCode(() => verifyReport(P4, base({ measurements: [P4_MR], keyBinding: 'goten-v1' }), { expectedKeyBinding: { publicKey: key, nonce } }), 'KEY_BINDING_MISMATCH');
});

test('unchecked items must be accepted explicitly; TCB status must be accepted when evaluated', () => {
  throwsCode(() => verifyReport(S1, base({ acceptUnchecked: ['tcb-status'] })), 'UNCHECKED_NOT_ACCEPTED', /pck-crl/);
  const collateral = JSON.parse(fixtureText('sgx/dcap-qvl-sgx_quote_collateral.json')) as IntelCollateral;
  const at = new Date(1751624924 * 1000);
  throwsCode(() => verifyReport(S1, base({ acceptUnchecked: [] }), { collateral, now: at }), 'TCB', /ConfigurationAndSWHardeningNeeded/);
  const ok = verifyReport(S1, base({ acceptUnchecked: [], acceptedTcbStatuses: ['UpToDate', 'ConfigurationAndSWHardeningNeeded'] }), { collateral, now: at });
  assert.equal(ok.claims.tcb.status, 'ConfigurationAndSWHardeningNeeded');
  // Bundled collateral inside the container is used the same way.
  const bundled = decodeReport(encodeReport({ ...S1, collateral: JSON.stringify(collateral) }));
  throwsCode(() => verifyReport(bundled, base({ acceptUnchecked: [] }), { now: at }), 'TCB');
});

test('signature failures surface through verifyReport', () => {
  const t = { ...S1, evidence: Uint8Array.from(S1.evidence) };
  t.evidence[112] ^= 1;
  throwsCode(() => verifyReport(t, base({ measurements: ['any'] })), 'SIGNATURE');
});

test('policy files: defaults are strict, unknown fields and bad values are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'goten-policy-'));
  try {
    const p = join(dir, 'p.json');
    writeFileSync(p, JSON.stringify({ allowedKinds: ['sgx'], measurements: [S1_MR] }));
    const pol = loadPolicy(p);
    assert.equal(pol.allowDebug, false);
    assert.equal(pol.allowSimulated, false);
    assert.equal(pol.keyBinding, 'goten-v1');
    assert.deepEqual(pol.acceptUnchecked, []);
    assert.deepEqual(pol.acceptedTcbStatuses, ['UpToDate']);
    throwsCode(() => parsePolicy({ allowedKinds: ['sgx'], measurements: [S1_MR], allowDebgu: true }), 'POLICY_INVALID', /allowDebgu/);
    throwsCode(() => parsePolicy({ allowedKinds: ['sgx'], measurements: [] }), 'POLICY_INVALID');
    throwsCode(() => parsePolicy({ allowedKinds: ['nitro'], measurements: ['any'] }), 'POLICY_INVALID');
    throwsCode(() => parsePolicy({ allowedKinds: ['sgx'], measurements: ['xyz'] }), 'POLICY_INVALID');
    throwsCode(() => parsePolicy({ allowedKinds: ['sgx'], measurements: ['any'], allowDebug: 'yes' }), 'POLICY_INVALID');
    writeFileSync(p, '{not json');
    throwsCode(() => loadPolicy(p), 'POLICY_INVALID');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('report container: round trip, truncation and a lying header', () => {
  const enc = encodeReport(P4);
  const dec = decodeReport(enc);
  assert.equal(dec.kind, 'sev-snp');
  assert.deepEqual(Buffer.from(dec.evidence), Buffer.from(P4.evidence));
  throwsCode(() => decodeReport(enc.subarray(0, enc.length - 1)), 'MALFORMED');
  const lying = Buffer.from(enc).toString('latin1').replace('"kind":"sev-snp"', '"kind":"sgx"    ');
  assert.equal(decodeReport(new Uint8Array(Buffer.from(lying, 'latin1'))).kind, 'sev-snp');
  throwsCode(() => decodeReport(new Uint8Array(100)), 'MALFORMED');
});
