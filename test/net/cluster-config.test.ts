import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { register as registerKeygen } from '../../src/cli/commands/keygen.js';
import { connectToParty, listenAsParty, transportFor, writeLocalCluster } from '../../src/net/cluster.js';
import {
  ClusterConfigError,
  loadClusterConfig,
  loadLocalIdentity,
  parseClusterConfig,
  pinnedKeys,
} from '../../src/net/cluster-config.js';
import { generateIdentity, loadIdentity, publicKeyFromText } from '../../src/net/identity.js';
import { MsgType } from '../../src/net/message-types.js';

const dir = mkdtempSync(join(tmpdir(), 'goten-net-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(over: (c: Record<string, any>) => void = () => {}): Record<string, any> {
  const p = (port: number) => ({ host: '127.0.0.1', port, publicKey: generateIdentity('x').publicKeyText });
  const c: Record<string, any> = { version: 1, parties: { e0: p(7000), w0: p(7001), w1: p(7002), w2: p(7003) } };
  over(c);
  return c;
}

describe('cluster config', () => {
  it('accepts a valid config and fills defaults', () => {
    const c = parseClusterConfig(config((c) => (c.parties.e0.keyFile = 'keys/e0.key')), '/base');
    assert.equal(c.transport, 'tls');
    assert.equal(c.parties.w2?.port, 7003);
    assert.equal(c.parties.e0?.keyFile, '/base/keys/e0.key');
    assert.deepEqual(Object.keys(pinnedKeys(c)).sort(), ['e0', 'w0', 'w1', 'w2']);
  });

  const bad: [string, (c: Record<string, any>) => void, RegExp][] = [
    ['a missing worker', (c) => delete c.parties.w1, /parties\.w1: missing/],
    ['a bad port', (c) => (c.parties.w0.port = 70000), /parties\.w0\.port: expected an integer 1\.\.65535, got 70000/],
    ['an empty host', (c) => (c.parties.w0.host = ''), /parties\.w0\.host/],
    ['a malformed key', (c) => (c.parties.w2.publicKey = 'ed25519:abc'), /parties\.w2\.publicKey: .*not 32 bytes/],
    ['a key without prefix', (c) => (c.parties.w2.publicKey = 'abc'), /parties\.w2\.publicKey: public key must look like/],
    ['a duplicated key', (c) => (c.parties.w1.publicKey = c.parties.w0.publicKey), /parties\.w1\.publicKey: same key as parties\.w0/],
    ['an unknown party', (c) => (c.parties.w3 = c.parties.w0), /parties\.w3: unknown party name/],
    ['an unknown field', (c) => (c.parties.w0.hots = 'x'), /parties\.w0: unknown field "hots"/],
    ['a wrong version', (c) => (c.version = 2), /version: expected 1/],
    ['a bad transport', (c) => (c.transport = 'udp'), /transport: expected "tls" or "tcp"/],
    ['replicated without e1', (c) => (c.topology = 'replicated'), /replicated" needs a second enclave/],
  ];
  for (const [what, mutate, msg] of bad) {
    it(`rejects ${what} with a clear error`, () => {
      assert.throws(() => parseClusterConfig(config(mutate), '/', 'c.json'), (e: Error) => e instanceof ClusterConfigError && msg.test(e.message) && e.message.startsWith('c.json: '));
    });
  }

  it('reports unreadable and non-JSON files', () => {
    assert.throws(() => loadClusterConfig(join(dir, 'nope.json')), /cannot read cluster config/);
    writeFileSync(join(dir, 'broken.json'), '{ "version": 1,');
    assert.throws(() => loadClusterConfig(join(dir, 'broken.json')), /not valid JSON/);
  });

  it('writes a local cluster whose parties connect over pinned TLS', async () => {
    const path = writeLocalCluster(join(dir, 'cl'), { basePort: 0 + 47350, topology: 'replicated' });
    const cfg = loadClusterConfig(path);
    assert.equal(cfg.topology, 'replicated');
    const w0 = loadLocalIdentity(cfg, 'w0');
    const e0 = loadLocalIdentity(cfg, 'e0');
    assert.equal(statSync(cfg.parties.w0!.keyFile!).mode & 0o777, 0o600);
    const l = await listenAsParty(transportFor(cfg, w0), cfg, 'w0', { port: 0 });
    const c = await transportFor(cfg, e0).connect({ host: l.host, port: l.port, peer: 'w0' });
    const s = await l.accept();
    assert.equal(s.peer, 'e0');
    await c.send({ type: MsgType.Ping, dtype: 'json', value: 1 });
    assert.equal((await s.recv()).type, MsgType.Ping);
    await c.close();
    await l.close();
    await assert.rejects(connectToParty(transportFor(cfg, e0), cfg, 'w9'), /no party "w9"/);
    assert.throws(() => loadLocalIdentity(cfg, 'w1', cfg.parties.w0!.keyFile), /is not the key pinned for w1/);
  });
});

describe('goten keygen', () => {
  async function run(args: string[]): Promise<string> {
    const program = new Command().exitOverride();
    registerKeygen(program);
    const out: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => (out.push(s), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'goten', 'keygen', ...args]);
    } finally {
      process.stdout.write = write;
    }
    return out.join('');
  }

  it('writes <name>.key (0600) and <name>.pub and prints the public key, never the private key', async () => {
    const out = await run(['--out', join(dir, 'k'), '--name', 'w1']);
    const pub = readFileSync(join(dir, 'k', 'w1.pub'), 'utf8').trim();
    publicKeyFromText(pub);
    assert.ok(out.includes(pub));
    assert.ok(!out.includes('PRIVATE KEY'));
    assert.equal(statSync(join(dir, 'k', 'w1.key')).mode & 0o777, 0o600);
    assert.equal(loadIdentity('w1', join(dir, 'k', 'w1.key')).publicKeyText, pub);
    await assert.rejects(run(['--out', join(dir, 'k'), '--name', 'w1']), /already exists/);
    const j = JSON.parse(await run(['--out', join(dir, 'k'), '--name', 'w1', '--force', '--json']));
    assert.notEqual(j.publicKey, pub);
    assert.equal(j.party, 'w1');
  });
});
