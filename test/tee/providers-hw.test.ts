/**
 * Hardware providers against fake trees in a temp dir: a fake Gramine /dev/attestation (plain files) and a
 * fake configfs-tsm "kernel" (ProviderFs wrapper that reacts to writes like the tdx_guest/sev_guest drivers,
 * returning the real fixture evidence). No SGX/TDX/SNP hardware was used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import {
  decodeReport, encodeReport, parsePolicy, parseSnpCertTable, SgxGramineProvider, TsmProvider, verifyReport, type ProviderFs,
} from '../../src/tee/index.js';
import { fixture, PINNED_NOW, rejectsCode } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'goten-hw-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const acceptAll = (measurement: string, kinds: string[]) =>
  parsePolicy({ allowedKinds: kinds, measurements: [measurement], keyBinding: 'none', acceptUnchecked: ['*'], verificationTime: PINNED_NOW.toISOString() });

test('sgx-gramine: writes 64-byte user_report_data, reads the quote, self-checks, seals with the MRENCLAVE key', async () => {
  const root = join(tmp, 'dev-attestation');
  mkdirSync(join(root, 'keys'), { recursive: true });
  writeFileSync(join(root, 'attestation_type'), 'dcap\n');
  writeFileSync(join(root, 'quote'), fixture('sgx/dcap-qvl-sgx_quote.bin'));
  writeFileSync(join(root, 'report'), Buffer.concat([fixture('sgx/dcap-qvl-sgx_quote.bin').subarray(48, 432), Buffer.alloc(48)]));
  writeFileSync(join(root, 'keys', '_sgx_mrenclave'), Buffer.alloc(16, 0x42));
  const p = new SgxGramineProvider({ root });
  const rd = Buffer.from('Hello, world!');
  const report = await p.attest(rd);
  const written = readFileSync(join(root, 'user_report_data'));
  assert.equal(written.length, 64);
  assert.deepEqual(written.subarray(0, 13), rd);
  const mr = '33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb';
  assert.equal(Buffer.from(await p.measurement()).toString('hex'), mr);
  assert.equal(Buffer.from(await new SgxGramineProvider({ root }).measurement()).toString('hex'), mr); // from `report`
  const v = verifyReport(decodeReport(encodeReport(report)), acceptAll(mr, ['sgx-gramine']));
  assert.equal(v.claims.kind, 'sgx');
  // The quote does not carry other report data: the self-check refuses it.
  await rejectsCode(p.attest(Buffer.from('other')), 'PROVIDER', /report data/);
  const ctx = { purpose: 'checkpoint', chunkId: 'c', version: 1 };
  assert.equal(Buffer.from(await p.unseal(await p.seal(Buffer.from('x'), ctx), ctx)).toString(), 'x');
  writeFileSync(join(root, 'attestation_type'), 'none\n');
  await rejectsCode(p.attest(rd), 'PROVIDER', /remote_attestation/);
  await rejectsCode(new SgxGramineProvider({ root: join(tmp, 'nope') }).attest(rd), 'PROVIDER', /not running under gramine-sgx/);
});

/** A fake configfs-tsm: entries are real temp dirs; writes to inblob/privlevel bump generation and make outblob. */
function fakeTsm(root: string, provider: string, outblob: Uint8Array, auxblob?: Uint8Array, opts: { interfere?: number } = {}): ProviderFs & { log: string[] } {
  mkdirSync(root, { recursive: true });
  const log: string[] = [];
  let interfere = opts.interfere ?? 0;
  const gen = (e: string) => Number(readFileSync(join(e, 'generation'), 'utf8'));
  const bump = (e: string) => writeFileSync(join(e, 'generation'), String(gen(e) + 1));
  return {
    log,
    mkdtemp(prefix) {
      const e = mkdtempSync(prefix);
      writeFileSync(join(e, 'generation'), '0');
      writeFileSync(join(e, 'provider'), provider + '\n');
      log.push(`mkdir ${basename(e)}`);
      return e;
    },
    writeFile(path, data) {
      const e = join(path, '..');
      const name = basename(path);
      log.push(`write ${name} ${typeof data === 'string' ? data : data.length}`);
      if (name === 'inblob' && (typeof data === 'string' || data.length !== 64)) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
      writeFileSync(path, data);
      bump(e);
      writeFileSync(join(e, 'outblob'), outblob);
      if (auxblob) writeFileSync(join(e, 'auxblob'), auxblob);
      if (interfere > 0) {
        interfere--;
        bump(e); // another process wrote to the same entry
      }
    },
    readFile: (p) => readFileSync(p),
    exists: (p) => existsSync(p),
    rmdir(p) {
      // configfs removes the attributes with the directory; emulate that, then rmdir (non-recursive).
      for (const f of readdirSync(p)) rmSync(join(p, f));
      rmdirSync(p);
      log.push(`rmdir ${basename(p)}`);
    },
  };
}

test('tdx via configfs-tsm: mkdir, inblob, outblob, provider, generation, rmdir; evidence verifies', async () => {
  const T1 = fixture('tdx/dcap-qvl-tdx_quote.bin');
  const rd = T1.subarray(48 + 520, 48 + 584);
  const root = join(tmp, 'tsm-tdx');
  const fs = fakeTsm(root, 'tdx_guest', T1, undefined, { interfere: 1 });
  const p = new TsmProvider('tdx', { root, fs });
  const report = await p.attest(rd);
  assert.equal(report.kind, 'tdx');
  assert.equal(report.evidence.length, 4936); // zero padding dropped
  assert.deepEqual(readdirSync(root), []); // entries removed
  assert.equal(fs.log.filter((l) => l.startsWith('mkdir')).length, 2); // one retry after interference
  const mrtd = '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7';
  assert.equal(Buffer.from(await p.measurement()).toString('hex'), mrtd);
  assert.equal(verifyReport(report, acceptAll(mrtd, ['tdx'])).claims.kind, 'tdx');
  await rejectsCode(p.attest(new Uint8Array(64)), 'PROVIDER', /report data/);
  const wrong = new TsmProvider('tdx', { root, fs: fakeTsm(root, 'sev_guest', T1) });
  await rejectsCode(wrong.attest(rd), 'PROVIDER', /sev_guest/);
  const busy = new TsmProvider('tdx', { root, fs: fakeTsm(root, 'tdx_guest', T1, undefined, { interfere: 10 }) });
  await rejectsCode(busy.attest(rd), 'PROVIDER', /another writer/);
  await rejectsCode(new TsmProvider('tdx', { root: join(tmp, 'absent') }).attest(rd), 'PROVIDER', /configfs-tsm/);
  await rejectsCode(p.seal(new Uint8Array(1), { purpose: 'p', chunkId: 'c', version: 1 }), 'NO_KEY');
});

function certTable(entries: [string, Uint8Array][]): Uint8Array {
  const head = 24 * (entries.length + 1);
  const parts: Buffer[] = [];
  const table = Buffer.alloc(head);
  let off = head;
  entries.forEach(([guid, der], i) => {
    Buffer.from(guid.replace(/-/g, ''), 'hex').copy(table, i * 24);
    table.writeUInt32LE(off, i * 24 + 16);
    table.writeUInt32LE(der.length, i * 24 + 20);
    parts.push(Buffer.from(der));
    off += der.length;
  });
  return new Uint8Array(Buffer.concat([table, ...parts]));
}

test('sev-snp via configfs-tsm: privlevel, auxblob certificate table → VCEK/ASK/ARK attached; evidence verifies', async () => {
  const P2 = fixture('sev-snp/teekit-sev-gcp.bin');
  const der = (pem: string, i = 0) => new Uint8Array(new X509Certificate(pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)![i]).raw);
  const chainPem = Buffer.from(fixture('sev-snp/amd-ask-ark-milan.pem')).toString();
  const aux = certTable([
    ['63da758d-e664-4564-adc5-f4b93be8accd', der(Buffer.from(fixture('sev-snp/teekit-sev-gcp-vcek.pem')).toString())],
    ['4ab7b379-bbac-4fe4-a02f-05aef327c782', der(chainPem, 0)],
    ['c0b406a4-a803-4952-9743-3fb6014cd0ae', der(chainPem, 1)],
  ]);
  assert.deepEqual(parseSnpCertTable(aux).map((c) => c.name), ['VCEK', 'ASK', 'ARK']);
  const root = join(tmp, 'tsm-snp');
  const fs = fakeTsm(root, 'sev_guest', P2, aux);
  const p = new TsmProvider('sev-snp', { root, fs, privlevel: 0, sealingKey: new Uint8Array(32).fill(1) });
  const report = await p.attest(new Uint8Array(64));
  assert.ok(fs.log.includes('write privlevel 0'));
  const mr = Buffer.from(await p.measurement()).toString('hex');
  const v = verifyReport(decodeReport(encodeReport(report)), acceptAll(mr, ['sev-snp']));
  assert.equal(v.claims.kind, 'sev-snp');
  assert.ok(v.checks.some((c) => c.id === 'vcek-hwid'));
  const ctx = { purpose: 'p', chunkId: 'c', version: 2 };
  assert.equal(Buffer.from(await p.unseal(await p.seal(Buffer.from('ok'), ctx), ctx)).toString(), 'ok');
  // Without certificates in auxblob the report cannot be verified offline: a clear chain error.
  const bare = await new TsmProvider('sev-snp', { root, fs: fakeTsm(root, 'sev_guest', P2) }).attest(new Uint8Array(64));
  assert.throws(() => verifyReport(bare, acceptAll(mr, ['sev-snp'])), /VCEK, ASK and ARK/);
});
