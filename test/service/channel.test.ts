/** Unit tests of the channel crypto, replay window, owner box and plaintext codecs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChannelError, clientFinish, decodeEnvelope, encodeEnvelope, envelopeFromJson, envelopeToJson, generateX25519, openMessage, rawX25519,
  sealMessage, serverAccept, spkiDer,
} from '../../src/wire/channel.js';
import { CodecError, decodeAnswer, decodeDatasetFile, decodeQuery, encodeAnswer, encodeDatasetFile, encodeQuery } from '../../src/wire/codec.js';
import { openOwnerBox, sealToOwner } from '../../src/wire/owner-box.js';
import { serviceBindingNonce } from '../../src/wire/service-config.js';
import { loadDataset } from '../../src/data/spec.js';
import { ReplayWindow, SessionTable } from '../../src/service/sessions.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

function handshake(owner?: ReturnType<typeof generateX25519>, serverOwner = owner) {
  const S = generateX25519();
  const spki = spkiDer(S.publicKey);
  const eph = generateX25519();
  const ephRaw = rawX25519(eph.publicKey);
  const srv = serverAccept({ privateKey: S.privateKey, spki }, ephRaw, serverOwner ? rawX25519(serverOwner.publicKey) : undefined);
  const answer = { session: srv.keys.sessionId, ephemeral: srv.ephemeral, confirm: srv.confirm };
  return { S, srv, finish: (channelKey = S.publicKey) => clientFinish(channelKey, { privateKey: eph.privateKey, raw: ephRaw }, answer, owner ? { privateKey: owner.privateKey, raw: rawX25519(owner.publicKey) } : undefined) };
}

describe('channel', () => {
  it('derives the same directional keys on both sides and round-trips envelopes', () => {
    const { srv, finish } = handshake();
    const c = finish();
    assert.deepEqual(c.c2s, srv.keys.c2s);
    assert.deepEqual(c.s2c, srv.keys.s2c);
    assert.notDeepEqual(c.c2s, c.s2c);
    const env = sealMessage(c.c2s, c.sessionId, 7n, 'req', '/predict', Buffer.from('hello'));
    const bin = decodeEnvelope(encodeEnvelope(env));
    assert.equal(openMessage(srv.keys.c2s, bin, 'req', '/predict').toString(), 'hello');
    const js = envelopeFromJson(JSON.parse(JSON.stringify(envelopeToJson(env))));
    assert.equal(openMessage(srv.keys.c2s, js, 'req', '/predict').toString(), 'hello');
  });

  it('refuses tampering, another route, the other direction and another session', () => {
    const { srv, finish } = handshake();
    const c = finish();
    const env = sealMessage(c.c2s, c.sessionId, 1n, 'req', '/predict', Buffer.from('secret query'));
    const bytes = encodeEnvelope(env);
    for (const at of [5, 22, 30, 45, bytes.length - 1]) {
      const t = Buffer.from(bytes);
      t[at] ^= 1;
      assert.throws(() => openMessage(srv.keys.c2s, decodeEnvelope(t), 'req', '/predict'), code('DECRYPT_FAILED'), `byte ${at}`);
    }
    assert.throws(() => openMessage(srv.keys.c2s, env, 'req', '/upload/chunk'), code('DECRYPT_FAILED'));
    assert.throws(() => openMessage(srv.keys.s2c, env, 'res', '/predict'), code('DECRYPT_FAILED'));
    const other = handshake().finish();
    assert.throws(() => openMessage(other.c2s, env, 'req', '/predict'), code('DECRYPT_FAILED'));
    assert.throws(() => decodeEnvelope(Buffer.from('GCH1short')), code('MALFORMED'));
  });

  it('key confirmation fails unless the service holds the attested channel key', () => {
    const { finish } = handshake();
    assert.throws(() => finish(generateX25519().publicKey), code('CONFIRM_FAILED'));
  });

  it('an owner session works only for the holder of the owner private key', () => {
    const owner = generateX25519();
    assert.ok(handshake(owner).finish());
    // a client claiming the owner's public key without its private key derives other keys
    const impostor = generateX25519();
    const h = handshake({ privateKey: impostor.privateKey, publicKey: owner.publicKey }, owner);
    assert.throws(() => h.finish(), code('CONFIRM_FAILED'));
  });

  it('the binding nonce commits to the config text and the client nonce', () => {
    const a = serviceBindingNonce('{"a":1}', Buffer.from('n1'));
    assert.notDeepEqual(a, serviceBindingNonce('{"a":2}', Buffer.from('n1')));
    assert.notDeepEqual(a, serviceBindingNonce('{"a":1}', Buffer.from('n2')));
  });
});

describe('sessions', () => {
  it('the replay window accepts each sequence number once, out of order within the window', () => {
    const w = new ReplayWindow();
    for (const s of [1n, 3n, 2n, 10n, 5n]) assert.ok(w.accept(s), `first ${s}`);
    for (const s of [1n, 3n, 2n, 10n, 5n]) assert.ok(!w.accept(s), `again ${s}`);
    assert.ok(w.accept(5000n));
    assert.ok(!w.accept(9n), 'too old');
    assert.ok(w.accept(4999n));
  });

  it('expire, and are capped with least-recently-used eviction', () => {
    let now = 0;
    const t = new SessionTable(2, 1000, () => now);
    const keys = (i: number) => ({ sessionId: Buffer.alloc(16, i), c2s: Buffer.alloc(32), s2c: Buffer.alloc(32), transcriptHash: Buffer.alloc(32) });
    t.add(keys(1), false);
    t.add(keys(2), false);
    assert.ok(t.get(Buffer.alloc(16, 1)));
    t.add(keys(3), false); // evicts 2, the least recently used
    assert.equal(t.get(Buffer.alloc(16, 2)), undefined);
    assert.ok(t.get(Buffer.alloc(16, 1)));
    now = 5000;
    assert.equal(t.get(Buffer.alloc(16, 3)), undefined, 'expired');
  });
});

describe('owner box', () => {
  it('opens only with the owner key and purpose, and detects alteration', () => {
    const owner = generateX25519();
    const box = sealToOwner(owner.publicKey, 'model', Buffer.from('weights'));
    assert.equal(openOwnerBox(owner.privateKey, 'model', box).toString(), 'weights');
    assert.throws(() => openOwnerBox(generateX25519().privateKey, 'model', box), code('DECRYPT_FAILED'));
    assert.throws(() => openOwnerBox(owner.privateKey, 'data', box), code('DECRYPT_FAILED'));
    const t = Uint8Array.from(box);
    t[50] ^= 1;
    assert.throws(() => openOwnerBox(owner.privateKey, 'model', t), code('DECRYPT_FAILED'));
    assert.throws(() => openOwnerBox(owner.privateKey, 'model', box.subarray(0, 20)), code('MALFORMED'));
  });
});

describe('codecs', () => {
  const shape = [1, 2, 2] as const;
  const values = Float32Array.from([0, 0.25, 0.5, 1, 2, 3, 4, 5]);
  it('queries and answers round-trip in both forms', () => {
    for (const form of ['json', 'binary'] as const) {
      const q = decodeQuery(encodeQuery(form, values, 2, shape), shape, 4);
      assert.equal(q.form, form);
      assert.deepEqual(q.values, values);
      const a = { model: 'ab'.repeat(32), classes: Int32Array.of(1, 0), scores: Float32Array.of(0.25, 0.75, 0.5, 0.5), numClasses: 2 };
      assert.deepEqual(decodeAnswer(encodeAnswer(form, a)), a);
    }
  });
  it('refuses malformed queries with a reason', () => {
    const bad: [Buffer, RegExp][] = [
      [Buffer.from('{"inputs":[[1,2,3]]}'), /must be an array of 4 numbers/],
      [Buffer.from('{"inputs":[[1,2,3,"x"]]}'), /non-numeric/],
      [Buffer.from('{"inputs":[]}'), /at least one/],
      [Buffer.from('{"nope":1}'), /needs "inputs"/],
      [Buffer.from('not json'), /neither/],
      [encodeQuery('binary', values, 2, shape).subarray(0, 30), /must be 52 bytes/],
      [encodeQuery('binary', new Float32Array(8), 2, [2, 2, 1]), /the model takes 1×2×2/],
      [encodeQuery('json', new Float32Array(20), 5, shape), /at most 4 inputs/],
    ];
    for (const [b, re] of bad) assert.throws(() => decodeQuery(b, shape, 4), (e: unknown) => e instanceof CodecError && re.test(e.message), re.source);
  });
  it('data set files round-trip and bad labels are refused', () => {
    const d = loadDataset('synthetic:1x4x4:3', { limitTrain: 5, limitTest: 2, seed: 1 });
    const f = encodeDatasetFile(d);
    const back = decodeDatasetFile(f);
    assert.deepEqual(back.train.images, d.train.images);
    assert.deepEqual(back.test.labels, d.test.labels);
    const t = Buffer.from(f);
    t.writeInt32LE(7, t.length - 4); // last test label out of range
    assert.throws(() => decodeDatasetFile(t), /label 1 is 7/);
  });
  it('a ChannelError names its code', () => {
    assert.match(new ChannelError('MALFORMED', 'x').message, /^MALFORMED: x$/);
  });
});
