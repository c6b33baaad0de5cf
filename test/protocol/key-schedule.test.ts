import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../src/net/identity.js';
import { InprocNetwork, inprocTransport } from '../../src/net/inproc.js';
import { MsgType } from '../../src/net/message-types.js';
import { tlsTransport } from '../../src/net/tls.js';
import type { Connection } from '../../src/net/transport.js';
import { AuthenticationError } from '../../src/net/transport.js';
import { HandshakeError, performHandshake } from '../../src/protocol/handshake.js';
import {
  STREAM_NAMES,
  WORKER_STREAMS,
  KeyScheduleError,
  decryptSeedBundle,
  deriveStreamKeys,
  encryptSeedBundle,
  generateMasterSecret,
  receiveMasterSecret,
  receiveSeedBundle,
  seedBundleFor,
  sendMasterSecret,
  sendSeedBundle,
} from '../../src/protocol/key-schedule.js';

const enclave = generateIdentity('e0');
const worker = generateIdentity('w2');

async function pair(): Promise<[Connection, Connection]> {
  const t = inprocTransport('wire', new InprocNetwork());
  const l = await t.listen();
  const c = await t.connect({ host: l.host, port: l.port, peer: 'w2' });
  return [c, await l.accept()];
}

/**
 * a ⇄ relay ⇄ b: forwards every frame, letting `tamper` rewrite JSON bodies
 * (a man in the middle on an unauthenticated link).
 */
async function relayed(tamper: (type: number, v: Record<string, unknown>) => void): Promise<[Connection, Connection]> {
  const [a, ma] = await pair();
  const [mb, b] = await pair();
  const pump = async (from: Connection, to: Connection): Promise<void> => {
    for (;;) {
      const m = await from.recv().catch(() => null);
      if (!m) return void to.close().catch(() => {});
      if (m.dtype === 'json') {
        const v = m.value as Record<string, unknown>;
        tamper(m.type, v);
        await to.send({ type: m.type, dtype: 'json', value: v }).catch(() => {});
      } else {
        await to.send({ type: m.type, opId: m.opId, label: m.label, dtype: 'uint8', data: new Uint8Array(m.data.buffer, 0, m.data.byteLength) }).catch(() => {});
      }
    }
  };
  void pump(ma, mb);
  void pump(mb, ma);
  return [a, b];
}

function flip(text: unknown): string {
  const b = Buffer.from(String(text), 'base64url');
  b[5] ^= 1;
  return b.toString('base64url');
}

describe('authenticated key exchange', () => {
  it('gives both sides the same fresh 32-byte session key', async () => {
    const [c, s] = await pair();
    const [a, b] = await Promise.all([
      performHandshake(c, { self: enclave, expectedPeer: worker.publicKeyText, role: 'initiator' }),
      performHandshake(s, { self: worker, expectedPeer: [generateIdentity('e1').publicKey, enclave.publicKey], role: 'responder' }),
    ]);
    assert.equal(a.sessionKey.length, 32);
    assert.deepEqual(a.sessionKey, b.sessionKey);
    assert.deepEqual(a.transcriptHash, b.transcriptHash);
    assert.equal(a.peerPublicKey, worker.publicKeyText);
    assert.equal(b.peerPublicKey, enclave.publicKeyText);
    const [c2, s2] = await pair();
    const [a2] = await Promise.all([
      performHandshake(c2, { self: enclave, expectedPeer: worker.publicKey, role: 'initiator' }),
      performHandshake(s2, { self: worker, expectedPeer: enclave.publicKey, role: 'responder' }),
    ]);
    assert.notDeepEqual(a2.sessionKey, a.sessionKey, 'fresh ephemerals, fresh key');
    assert.equal(c.isClosed, false, 'the connection stays usable');
  });

  it('works over TLS too', async () => {
    const peers = { e0: enclave.publicKeyText, w2: worker.publicKeyText };
    const l = await tlsTransport({ identity: worker, peers }).listen();
    const c = await tlsTransport({ identity: enclave, peers }).connect({ host: l.host, port: l.port, peer: 'w2' });
    const s = await l.accept();
    const [a, b] = await Promise.all([
      performHandshake(c, { self: enclave, expectedPeer: worker.publicKeyText, role: 'initiator', context: 'seeds' }),
      performHandshake(s, { self: worker, expectedPeer: enclave.publicKeyText, role: 'responder', context: 'seeds' }),
    ]);
    assert.deepEqual(a.sessionKey, b.sessionKey);
    await c.close();
    await l.close();
  });

  it('fails on both sides when the responder is not the pinned peer', async () => {
    const [c, s] = await pair();
    const impostor = generateIdentity('w2');
    const [ri, rr] = await Promise.allSettled([
      performHandshake(c, { self: enclave, expectedPeer: worker.publicKeyText, role: 'initiator' }),
      performHandshake(s, { self: impostor, expectedPeer: enclave.publicKeyText, role: 'responder' }),
    ]);
    assert.ok(ri.status === 'rejected' && ri.reason instanceof AuthenticationError && /not the pinned key/.test(ri.reason.message));
    assert.ok(rr.status === 'rejected' && rr.reason instanceof HandshakeError, String((rr as PromiseRejectedResult).reason));
    assert.ok(c.isClosed && s.isClosed);
  });

  it('fails on both sides when the initiator is not the pinned peer', async () => {
    const [c, s] = await pair();
    const [ri, rr] = await Promise.allSettled([
      performHandshake(c, { self: generateIdentity('e0'), expectedPeer: worker.publicKeyText, role: 'initiator' }),
      performHandshake(s, { self: worker, expectedPeer: enclave.publicKeyText, role: 'responder' }),
    ]);
    assert.ok(rr.status === 'rejected' && rr.reason instanceof AuthenticationError);
    assert.ok(ri.status === 'rejected' && ri.reason instanceof HandshakeError && /failed on the other side/.test(ri.reason.message));
  });

  const tampers: [string, (type: number, v: Record<string, unknown>) => void, RegExp][] = [
    ['a flipped responder signature', (t, v) => t === MsgType.HandshakeResponse && (v.signature = flip(v.signature)), /responder signature does not verify/],
    ['a flipped initiator signature', (t, v) => t === MsgType.HandshakeFinish && (v.signature = flip(v.signature)), /initiator signature does not verify/],
    ['a swapped initiator ephemeral', (t, v) => t === MsgType.HandshakeInit && (v.ephemeral = flip(v.ephemeral)), /signature does not verify|X25519/],
    ['a swapped responder ephemeral', (t, v) => t === MsgType.HandshakeResponse && (v.ephemeral = flip(v.ephemeral)), /signature does not verify|X25519/],
    ['a changed context', (t, v) => t === MsgType.HandshakeInit && (v.context = 'other'), /context mismatch/],
    ['a flipped key confirmation', (t, v) => t === MsgType.HandshakeFinish && (v.confirm = flip(v.confirm)), /key confirmation does not match/],
  ];
  for (const [what, tamper, why] of tampers) {
    it(`fails on ${what} in the transcript`, async () => {
      const [c, s] = await relayed(tamper);
      const results = await Promise.allSettled([
        performHandshake(c, { self: enclave, expectedPeer: worker.publicKeyText, role: 'initiator', timeoutMs: 3000 }),
        performHandshake(s, { self: worker, expectedPeer: enclave.publicKeyText, role: 'responder', timeoutMs: 3000 }),
      ]);
      assert.ok(results.every((r) => r.status === 'rejected'), 'neither side gets a key');
      const msgs = results.map((r) => String((r as PromiseRejectedResult).reason?.message));
      assert.ok(msgs.some((m) => why.test(m)), msgs.join(' | '));
    });
  }
});

describe('stream keys and seed bundles', () => {
  const master = generateMasterSecret();
  const keys = deriveStreamKeys(master);

  it('derives a distinct 16-byte key per label, per master and per context', () => {
    const seen = new Set<string>();
    for (const n of STREAM_NAMES) {
      assert.equal(keys[n].length, 16);
      seen.add(Buffer.from(keys[n]).toString('hex'));
    }
    assert.equal(seen.size, STREAM_NAMES.length);
    assert.deepEqual(deriveStreamKeys(master), keys, 'deterministic in the master');
    const other = deriveStreamKeys(generateMasterSecret());
    for (const n of STREAM_NAMES) assert.notDeepEqual(other[n], keys[n]);
    assert.notDeepEqual(deriveStreamKeys(master, 'epoch-2').U, keys.U);
    assert.notDeepEqual(generateMasterSecret(), master);
    assert.throws(() => deriveStreamKeys(new Uint8Array(16)), KeyScheduleError);
  });

  it('gives each worker exactly its keys (goten): w0 {A0,B0,CM0}, w1 {CM1}, w2 only {U,V,CMZ}', () => {
    assert.deepEqual(Object.keys(seedBundleFor(0, keys, 'goten').keys).sort(), ['A0', 'B0', 'CM0']);
    assert.deepEqual(Object.keys(seedBundleFor(1, keys, 'goten').keys), ['CM1']);
    const b2 = seedBundleFor(2, keys, 'goten');
    assert.deepEqual(Object.keys(b2.keys).sort(), ['CMZ', 'U', 'V']);
    for (const n of ['U', 'V', 'CMZ'] as const) assert.deepEqual(b2.keys[n], keys[n]);
    assert.deepEqual(WORKER_STREAMS.goten[2], ['U', 'V', 'CMZ']);
    assert.throws(() => seedBundleFor(3, keys, 'goten'), KeyScheduleError);
    assert.throws(() => encryptSeedBundle({ worker: 2, protocol: 'goten', keys: { ...b2.keys, A0: keys.A0 } }, new Uint8Array(32)), /must not receive the keys A0/);
  });

  it('gives each worker exactly its keys (lean): w0 {S0,CM0}, w1 {D,CM1}, w2 {S0,D,CM0,CM1,T}', () => {
    assert.deepEqual(Object.keys(seedBundleFor(0, keys, 'lean').keys).sort(), ['CM0', 'S0']);
    assert.deepEqual(Object.keys(seedBundleFor(1, keys, 'lean').keys).sort(), ['CM1', 'D']);
    assert.deepEqual(Object.keys(seedBundleFor(2, keys, 'lean').keys).sort(), ['CM0', 'CM1', 'D', 'S0', 'T']);
    // worker 0 never holds D or T, worker 1 never S0 or T: each alone lacks half of every mask
    assert.throws(() => encryptSeedBundle({ worker: 0, protocol: 'lean', keys: { ...seedBundleFor(0, keys, 'lean').keys, D: keys.D } }, new Uint8Array(32)), /must not receive the keys D/);
    assert.throws(() => encryptSeedBundle({ worker: 1, protocol: 'lean', keys: { ...seedBundleFor(1, keys, 'lean').keys, T: keys.T } }, new Uint8Array(32)), /must not receive the keys T/);
  });

  it('seals bundles under the session key: wrong key, wrong worker, wrong protocol or a flipped bit fail', () => {
    const sk = new Uint8Array(32).fill(7);
    const box = encryptSeedBundle(seedBundleFor(2, keys, 'goten'), sk);
    assert.deepEqual(decryptSeedBundle(box, sk, 2, 'goten').keys, seedBundleFor(2, keys, 'goten').keys);
    assert.throws(() => decryptSeedBundle(box, new Uint8Array(32).fill(8), 2, 'goten'), /authentication failed/);
    assert.throws(() => decryptSeedBundle(box, sk, 0, 'goten'), /authentication failed/);
    assert.throws(() => decryptSeedBundle(box, sk, 2, 'lean'), /authentication failed/);
    const lean = encryptSeedBundle(seedBundleFor(1, keys, 'lean'), sk);
    assert.deepEqual(decryptSeedBundle(lean, sk, 1, 'lean').keys, seedBundleFor(1, keys, 'lean').keys);
    assert.throws(() => decryptSeedBundle(lean, sk, 1, 'goten'), /authentication failed/);
    const bad = box.slice();
    bad[20] ^= 1;
    assert.throws(() => decryptSeedBundle(bad, sk, 2, 'goten'), KeyScheduleError);
    assert.equal(Buffer.from(box).includes(Buffer.from(keys.U)), false, 'no key in the clear');
  });

  it('runs the whole schedule: e0 → e1 master secret, e0 → w2 bundle, over AKE channels', async () => {
    const e1 = generateIdentity('e1');
    const [c01, s01] = await pair();
    const [k0, k1] = await Promise.all([
      performHandshake(c01, { self: enclave, expectedPeer: e1.publicKeyText, role: 'initiator' }),
      performHandshake(s01, { self: e1, expectedPeer: enclave.publicKeyText, role: 'responder' }),
    ]);
    await sendMasterSecret(c01, k0.sessionKey, master);
    const m1 = await receiveMasterSecret(s01, k1.sessionKey);
    assert.deepEqual(deriveStreamKeys(m1), keys, 'replicas derive identical streams');

    const [cw, sw] = await pair();
    const [ke, kw] = await Promise.all([
      performHandshake(cw, { self: enclave, expectedPeer: worker.publicKeyText, role: 'initiator' }),
      performHandshake(sw, { self: worker, expectedPeer: enclave.publicKeyText, role: 'responder' }),
    ]);
    await sendSeedBundle(cw, ke.sessionKey, seedBundleFor(2, keys, 'goten'));
    const got = await receiveSeedBundle(sw, kw.sessionKey, 2, 'goten');
    assert.deepEqual(Object.keys(got.keys).sort(), ['CMZ', 'U', 'V']);
    assert.deepEqual(got.keys.V, keys.V);
    // A bundle under another session key is rejected and ends the connection.
    await sendSeedBundle(cw, new Uint8Array(32), seedBundleFor(2, keys, 'goten'));
    await assert.rejects(receiveSeedBundle(sw, kw.sessionKey, 2, 'goten'), /authentication failed/);
    assert.ok(sw.isClosed);
  });
});
