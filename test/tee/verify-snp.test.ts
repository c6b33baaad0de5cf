import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifySnpReport, certsFromBytes } from '../../src/tee/verify/snp-verify.js';
import { bindingReportData } from '../../src/tee/index.js';
import { fixture, fixtureText, flip, PINNED_NOW, throwsCode } from './helpers.js';

const now = PINNED_NOW;
const chain = certsFromBytes(fixture('sev-snp/amd-ask-ark-milan.pem'), 'chain');
const P1 = fixture('sev-snp/go-sev-guest-attestation-debug.bin');
const P1v = certsFromBytes(fixture('sev-snp/go-sev-guest-vcek.der'), 'vcek');
const P2 = fixture('sev-snp/teekit-sev-gcp.bin');
const P2v = certsFromBytes(fixture('sev-snp/teekit-sev-gcp-vcek.pem'), 'vcek');
const P4 = fixture('sev-snp/teekit-sev-gcp-x25519-bound.bin');
const P4v = certsFromBytes(fixture('sev-snp/teekit-sev-gcp-x25519-vcek.pem'), 'vcek');

test('SNP v2 debug report (P1) verifies: VCEK chain, TCB, hwID, signature; DEBUG flagged', () => {
  const v = verifySnpReport(P1, [...P1v, ...chain], { now });
  assert.equal(v.claims.kind, 'sev-snp');
  assert.equal(v.claims.debug, true);
  assert.equal(v.claims.fields.policy, '0x00000000000b0000');
  assert.equal(v.claims.measurement, 'b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01');
  assert.ok(v.claims.reportData.startsWith('0102030405000000'));
  assert.equal(v.claims.fields.reported_tcb, '0200000000000544');
  assert.equal(v.claims.fields.product, 'Milan');
  assert.deepEqual(v.checks.map((c) => c.id), ['structure', 'vcek-chain', 'vcek-tcb', 'vcek-hwid', 'report-signature']);
  assert.deepEqual(v.unchecked.map((u) => u.id), ['vcek-crl', 'tcb-status']);
});

test('SNP v5 GCP reports (P2, P4) verify; P4 report data = SHA-512(nonce ‖ X25519 key)', () => {
  const v2 = verifySnpReport(P2, [...P2v, ...chain], { now });
  assert.equal(v2.claims.debug, false);
  assert.equal(v2.claims.measurement, 'b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3');
  assert.equal(v2.claims.reportData, '0'.repeat(128));
  const v4 = verifySnpReport(P4, [...P4v, ...chain], { now });
  const kv = Object.fromEntries(fixtureText('sev-snp/teekit-sev-gcp-x25519-bound.txt').trim().split('\n').map((l) => l.split('=')));
  const rd = bindingReportData('sha512', { publicKey: Buffer.from(kv.X25519_KEY, 'hex'), nonce: Buffer.from(kv.NONCE, 'hex') });
  assert.equal(v4.claims.reportData, Buffer.from(rd).toString('hex'));
});

test('SNP tampering: measurement, report data, policy, signature bytes', () => {
  const certs = [...P2v, ...chain];
  throwsCode(() => verifySnpReport(flip(P2, 0x90), certs, { now }), 'SIGNATURE'); // MEASUREMENT
  throwsCode(() => verifySnpReport(flip(P2, 0x50), certs, { now }), 'SIGNATURE'); // REPORT_DATA
  throwsCode(() => verifySnpReport(flip(P2, 0x2a0), certs, { now }), 'SIGNATURE'); // R
  // Setting DEBUG in POLICY (bit 19) must not survive as a valid report.
  const dbg = Uint8Array.from(P2);
  dbg[0x0a] |= 0x08;
  throwsCode(() => verifySnpReport(dbg, certs, { now }), 'SIGNATURE');
  throwsCode(() => verifySnpReport(P2.subarray(0, 1000), certs, { now }), 'MALFORMED');
});

test('SNP chain: VCEK of another chip/TCB, missing certs, unpinned ARK, expiry', () => {
  throwsCode(() => verifySnpReport(P2, [...P1v, ...chain], { now }), 'CERT_CHAIN', /TCB|hwID/);
  // P4's VCEK was issued for the same chip and TCB as P2's (same derived key), so it legitimately vouches for P2.
  assert.equal(verifySnpReport(P2, [...P4v, ...chain], { now }).claims.debug, false);
  throwsCode(() => verifySnpReport(P2, P2v, { now }), 'CERT_CHAIN', /VCEK, ASK and ARK/);
  throwsCode(() => verifySnpReport(P2, [...P2v, ...chain], { now, trust: { amdArkFingerprints: ['00'.repeat(32)] } }), 'CERT_CHAIN', /pinned AMD root/);
  throwsCode(() => verifySnpReport(P2, [...P2v, ...chain], { now: new Date('2025-06-01T00:00:00Z') }), 'CERT_CHAIN', /VCEK/);
});
