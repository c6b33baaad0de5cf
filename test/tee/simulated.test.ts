import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  bindingReportData, createProvider, decodeReport, encodeReport, measureCodeBundle, parsePolicy, publicKeyBytes, SimulatedProvider,
  verifyReport,
} from '../../src/tee/index.js';
import { rejectsCode, throwsCode } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'goten-sim-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function codeTree(name: string): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'a'), { recursive: true });
  writeFileSync(join(root, 'a', 'x.js'), 'export const x = 1;\n');
  writeFileSync(join(root, 'b.js'), 'export const b = 2;\n');
  return root;
}

test('code-bundle measurement is deterministic and changes with any file', () => {
  const r1 = codeTree('t1');
  const r2 = codeTree('t2');
  const m1 = measureCodeBundle(r1, false);
  assert.equal(m1.files, 2);
  assert.deepEqual(measureCodeBundle(r2, false).digest, m1.digest);
  writeFileSync(join(r2, 'b.js'), 'export const b = 3;\n');
  assert.notDeepEqual(measureCodeBundle(r2, false).digest, m1.digest);
  writeFileSync(join(r1, 'c.js'), '');
  assert.notDeepEqual(measureCodeBundle(r1, false).digest, m1.digest);
});

test('simulated provider end to end: key file, loud warnings, attest → container → verifyReport with key binding', async () => {
  const warnings: string[] = [];
  const keyPath = join(tmp, 'keys', 'sim-quoting-key');
  const p = new SimulatedProvider({ keyPath, codeRoot: codeTree('e2e'), warn: (l) => warnings.push(l), productId: 7, svn: 3 });
  assert.equal(p.simulated, true);
  assert.equal(p.memoryBudgetBytes, 90 * 1024 * 1024);
  assert.equal(statSync(keyPath).mode & 0o777, 0o600);
  assert.match(warnings[0], /SIMULATED TEE — NO SECURITY.*created at/);
  const p2 = new SimulatedProvider({ keyPath, codeRoot: join(tmp, 'e2e'), warn: (l) => warnings.push(l) });
  assert.match(warnings[1], /loaded from/);
  assert.equal(p2.quotingPublicKeyHex(), p.quotingPublicKeyHex());

  // The enclave's channel key is bound into the report data.
  const { publicKey } = generateKeyPairSync('x25519');
  const kb = { publicKey: publicKeyBytes(publicKey), nonce: new Uint8Array(32).fill(9) };
  const report = decodeReport(encodeReport(await p.attest(bindingReportData('goten-v1', kb))));
  assert.ok(warnings.some((w) => /producing a simulated attestation report/.test(w)));
  assert.equal(report.kind, 'simulated');
  const m = Buffer.from(await p.measurement()).toString('hex');
  const policy = parsePolicy({
    allowedKinds: ['simulated'], measurements: [m], allowSimulated: true, allowDebug: true, simulatedQuotingKeys: [p.quotingPublicKeyHex()], minSvn: 3,
  });
  const v = verifyReport(report, policy, { expectedKeyBinding: kb });
  assert.equal(v.claims.simulated, true);
  assert.equal(v.claims.productId, 7);
  assert.equal(v.claims.tcb.status, 'simulated');

  // Refusals on the same report.
  const prod = { allowedKinds: ['simulated', 'sgx'], measurements: [m], simulatedQuotingKeys: [p.quotingPublicKeyHex()] };
  throwsCode(() => verifyReport(report, parsePolicy(prod), { expectedKeyBinding: kb }), 'SIMULATED_EVIDENCE_REJECTED');
  throwsCode(() => verifyReport(report, parsePolicy({ ...prod, allowSimulated: true }), { expectedKeyBinding: kb }), 'DEBUG_NOT_ALLOWED');
  throwsCode(() => verifyReport(report, parsePolicy({ ...prod, allowSimulated: true, allowDebug: true, simulatedQuotingKeys: ['ab'.repeat(32)] }), { expectedKeyBinding: kb }), 'UNTRUSTED_SIMULATED_KEY');
  throwsCode(() => verifyReport(report, parsePolicy({ ...prod, allowSimulated: true, allowDebug: true, measurements: ['cd'.repeat(32)] }), { expectedKeyBinding: kb }), 'MEASUREMENT_MISMATCH');
  const other = { publicKey: publicKeyBytes(generateKeyPairSync('x25519').publicKey), nonce: kb.nonce };
  throwsCode(() => verifyReport(report, policy, { expectedKeyBinding: other }), 'KEY_BINDING_MISMATCH');
  for (const at of [30, 110, 210, 240]) {
    const t = { ...report, evidence: Uint8Array.from(report.evidence) };
    t.evidence[at] ^= 1;
    assert.throws(() => verifyReport(t, policy, { expectedKeyBinding: kb }), /SIGNATURE|MALFORMED|UNTRUSTED/);
  }
  await assert.rejects(p.attest(new Uint8Array(65)), RangeError);
});

test('simulated sealing: signer-bound key survives code changes, measurement-bound does not', async () => {
  const keyPath = join(tmp, 'seal-key');
  const root = codeTree('seal');
  const quiet = { keyPath, codeRoot: root, warn: () => {} };
  const ctx = { purpose: 'checkpoint', chunkId: 'w0', version: 1 };
  const a = new SimulatedProvider(quiet);
  const blob = await a.seal(Buffer.from('weights'), ctx);
  assert.equal(Buffer.from(await new SimulatedProvider(quiet).unseal(blob, ctx)).toString(), 'weights');
  const mBound = await new SimulatedProvider({ ...quiet, sealBinding: 'measurement' }).seal(Buffer.from('w'), ctx);
  writeFileSync(join(root, 'b.js'), 'changed');
  measureCodeBundle(root, false); // refresh the cache as a restarted process would
  await rejectsCode(new SimulatedProvider({ ...quiet, sealBinding: 'measurement' }).unseal(mBound, ctx), 'ALTERED');
  const otherKey = new SimulatedProvider({ ...quiet, keyPath: join(tmp, 'other-key') });
  await rejectsCode(otherKey.unseal(blob, ctx), 'ALTERED');
});

test('createProvider builds every kind without touching hardware; a corrupt key file is refused', () => {
  for (const kind of ['sgx-gramine', 'tdx', 'sev-snp'] as const) assert.equal(createProvider(kind).kind, kind);
  assert.throws(() => createProvider('nitro' as never), /unknown TEE provider/);
  const bad = join(tmp, 'bad-key');
  writeFileSync(bad, '{"type":"other"}');
  throwsCode(() => new SimulatedProvider({ keyPath: bad, warn: () => {} }), 'PROVIDER');
});

test('goten attest CLI: produce, print-policy, verify (exit 0) and refuse (exit 1)', () => {
  const bin = fileURLToPath(new URL('../../bin/goten.js', import.meta.url));
  const env = { ...process.env, GOTEN_FROM_SOURCE: '1', GOTEN_SIM_QUOTING_KEY: join(tmp, 'cli-key') };
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'attest', ...args, '--code-root', join(tmp, 't1')], { env, encoding: 'utf8' });
  const pol = run('--provider', 'simulated', '--print-policy');
  assert.equal(pol.status, 0, pol.stderr);
  assert.match(pol.stderr, /SIMULATED TEE — NO SECURITY/);
  const policyPath = join(tmp, 'cli-policy.json');
  writeFileSync(policyPath, pol.stdout);
  const keyPath = join(tmp, 'cli-pub.pem');
  writeFileSync(keyPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
  const out = join(tmp, 'cli-report.bin');
  const made = run('--provider', 'simulated', '--bind-key', keyPath, '--out', out);
  assert.equal(made.status, 0, made.stderr);
  const ok = spawnSync(process.execPath, [bin, 'attest', '--verify', out, '--policy', policyPath, '--key-binding', keyPath], { env, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /ACCEPTED: .*SIMULATED/);
  const otherKey = join(tmp, 'cli-other.pem');
  writeFileSync(otherKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
  const bad = spawnSync(process.execPath, [bin, 'attest', '--verify', out, '--policy', policyPath, '--key-binding', otherKey, '--json'], { env, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(JSON.parse(bad.stdout).code, 'KEY_BINDING_MISMATCH');
});
