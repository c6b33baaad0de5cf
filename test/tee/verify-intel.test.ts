import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyIntelQuote } from '../../src/tee/verify/intel-verify.js';
import { parseIntelQuote } from '../../src/tee/verify/intel-quote.js';
import type { IntelCollateral } from '../../src/tee/index.js';
import { fixture, fixtureText, flip, PINNED_NOW, throwsCode } from './helpers.js';

const S1 = fixture('sgx/dcap-qvl-sgx_quote.bin');
const T1 = fixture('tdx/dcap-qvl-tdx_quote.bin');
const T6 = fixture('tdx/teekit-tdx-v4-trustee-debug.bin');
const T7 = fixture('tdx/teekit-tdx-v5-trustee.bin');
const now = PINNED_NOW;
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

test('SGX v3 fixture (S1): parses and verifies; TCB/CRL reported unchecked', () => {
  const v = verifyIntelQuote(S1, { now });
  const c = v.claims;
  assert.equal(c.kind, 'sgx');
  assert.equal(c.measurement, '33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb');
  assert.equal(c.signer, '815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6');
  assert.equal(c.productId, 0);
  assert.equal(c.svn, 0);
  assert.equal(c.debug, false);
  assert.equal(c.fields.attributes_flags, '0x0000000000000005');
  assert.equal(Buffer.from(c.reportData, 'hex').toString('latin1').replace(/\0+$/, ''), 'Hello, world!');
  assert.equal(c.fields.fmspc, '00a067110000');
  assert.equal(c.fields.qe_svn, '10');
  assert.equal(c.fields.pce_svn, '15');
  assert.deepEqual(ids(v.checks), ['structure', 'qe-vendor', 'pck-chain', 'qe-report-signature', 'qe-binding', 'quote-signature', 'qe-identity']);
  assert.deepEqual(ids(v.unchecked), ['qe-identity-collateral', 'tcb-status', 'pck-crl']);
  assert.equal(c.tcb.status, 'not-evaluated');
});

test('TDX v4 (T1, zero-padded) and v5 (T7) fixtures verify; MRTD and report data as published', () => {
  const v4 = verifyIntelQuote(T1, { now }).claims;
  assert.equal(v4.kind, 'tdx');
  assert.equal(v4.format, 'TDX DCAP quote v4');
  assert.equal(v4.measurement, '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7');
  assert.ok(v4.reportData.startsWith('9a9d48e7') && v4.reportData.endsWith('2b523f20'));
  assert.equal(v4.fields.tdattributes, '0x0000000010000000');
  assert.equal(v4.fields.rtmr3, '0'.repeat(96));
  assert.equal(v4.debug, false);
  const v5 = verifyIntelQuote(T7, { now });
  assert.equal(v5.claims.format, 'TDX DCAP quote v5');
  assert.equal(v5.claims.measurement, 'dfba221b48a22af8511542ee796603f37382800840dcd978703909bf8e64d4c8a1e9de86e7c9638bfcba422f3886400a');
  assert.ok(v5.claims.reportData.endsWith('74fd049f'));
  assert.ok(v5.claims.fields.mrservicetd !== undefined);
  assert.ok(ids(v5.unchecked).includes('tdx-module-identity'));
});

test('debug TD (T6) verifies cryptographically and is reported as debug', () => {
  const c = verifyIntelQuote(T6, { now }).claims;
  assert.equal(c.debug, true);
  assert.equal(c.fields.tdattributes, '0x0000000010000001');
  assert.equal(c.measurement, '705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031');
});

test('collateral: S1 → ConfigurationAndSWHardeningNeeded, T1 → UpToDate (same as dcap-qvl)', () => {
  const s = verifyIntelQuote(S1, { now: new Date(1751624924 * 1000), collateral: JSON.parse(fixtureText('sgx/dcap-qvl-sgx_quote_collateral.json')) as IntelCollateral });
  assert.equal(s.claims.tcb.status, 'ConfigurationAndSWHardeningNeeded');
  assert.match(s.claims.tcb.detail!, /INTEL-SA-00289.*INTEL-SA-00615/);
  assert.deepEqual(s.unchecked, []);
  assert.ok(ids(s.checks).includes('pck-crl'));
  const t = verifyIntelQuote(T1, { now: new Date(1751624655 * 1000), collateral: JSON.parse(fixtureText('tdx/dcap-qvl-tdx_quote_collateral.json')) as IntelCollateral });
  assert.equal(t.claims.tcb.status, 'UpToDate');
  assert.ok(ids(t.checks).includes('tdx-module-identity'));
  assert.deepEqual(t.unchecked, []);
});

test('collateral outside its window, or for the other TEE, is refused', () => {
  const sgxColl = JSON.parse(fixtureText('sgx/dcap-qvl-sgx_quote_collateral.json')) as IntelCollateral;
  throwsCode(() => verifyIntelQuote(S1, { now, collateral: sgxColl }), 'COLLATERAL', /not at 2026-06-01/);
  throwsCode(() => verifyIntelQuote(T1, { now: new Date(1751624655 * 1000), collateral: sgxColl }), 'COLLATERAL');
  const bad = { ...sgxColl, tcb_info: sgxColl.tcb_info.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18') };
  throwsCode(() => verifyIntelQuote(S1, { now: new Date(1751624924 * 1000), collateral: bad }), 'COLLATERAL', /signature/);
});

test('tampering: report body, QE report, QE auth data, attestation key, signature', () => {
  const q = parseIntelQuote(S1);
  throwsCode(() => verifyIntelQuote(flip(S1, 112), { now }), 'SIGNATURE', /quote signature/); // MRENCLAVE byte
  throwsCode(() => verifyIntelQuote(flip(S1, 368), { now }), 'SIGNATURE', /quote signature/); // REPORTDATA byte
  throwsCode(() => verifyIntelQuote(flip(S1, 436), { now }), 'SIGNATURE', /quote signature/); // signature r
  throwsCode(() => verifyIntelQuote(flip(S1, 564 + 64), { now }), 'SIGNATURE', /QE report signature/); // QE MRENCLAVE
  throwsCode(() => verifyIntelQuote(flip(S1, 1014), { now }), 'QE_BINDING'); // QE auth data
  throwsCode(() => verifyIntelQuote(flip(S1, 500), { now }), 'QE_BINDING'); // attestation key
  assert.equal(q.qeAuthData.length, 32);
  throwsCode(() => verifyIntelQuote(flip(T1, 48 + 136), { now }), 'SIGNATURE'); // MRTD byte
  throwsCode(() => verifyIntelQuote(flip(T7, 54 + 520), { now }), 'SIGNATURE'); // v5 REPORTDATA byte
});

test('structure: truncation, non-zero trailing bytes, wrong versions, unknown vendor', () => {
  throwsCode(() => verifyIntelQuote(S1.subarray(0, 4000), { now }), 'MALFORMED');
  throwsCode(() => verifyIntelQuote(S1.subarray(0, 40), { now }), 'MALFORMED');
  const extra = new Uint8Array(S1.length + 3);
  extra.set(S1);
  extra[S1.length + 1] = 7;
  throwsCode(() => verifyIntelQuote(extra, { now }), 'MALFORMED', /not zero padding/);
  const v9 = Uint8Array.from(S1);
  v9[0] = 9;
  throwsCode(() => verifyIntelQuote(v9, { now }), 'UNSUPPORTED');
  throwsCode(() => verifyIntelQuote(flip(S1, 12), { now }), 'QE_IDENTITY', /vendor/);
});

test('PCK chain: not-yet-valid / expired at the verification time, unpinned root', () => {
  throwsCode(() => verifyIntelQuote(S1, { now: new Date('2023-01-01T00:00:00Z') }), 'CERT_CHAIN', /PCK leaf/);
  throwsCode(() => verifyIntelQuote(S1, { now: new Date('2031-01-01T00:00:00Z') }), 'CERT_CHAIN', /PCK leaf/);
  throwsCode(() => verifyIntelQuote(S1, { now, trust: { intelRootFingerprints: ['00'.repeat(32)] } }), 'CERT_CHAIN', /not a pinned Intel SGX root/);
  // A byte flipped inside the PEM chain breaks parsing or a signature link.
  const pemStart = Buffer.from(S1).indexOf('-----BEGIN CERTIFICATE-----') + 200;
  assert.throws(() => verifyIntelQuote(flip(S1, pemStart), { now }));
});
