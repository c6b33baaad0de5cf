/**
 * The two AES-256-GCM implementations under sealing (src/tee/aead.ts): the addon's (Node's OpenSSL, into
 * caller buffers) against node:crypto — identical ciphertexts and tags, each opening the other's output,
 * refusals with zeroed output — and the blob paths that reuse buffers (Sealer.seal into `out`,
 * FileBacking.getInto).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { aead, nativeAead, nodeAead, type Aead } from '../../src/tee/aead.js';
import { FileBacking, SealedChunkStore } from '../../src/tee/chunk-store.js';
import { Sealer, sealedLength } from '../../src/tee/seal.js';
import { rejectsCode } from './helpers.js';

const native = nativeAead();
const SIZES = [0, 1, 15, 16, 17, 65535, 65536, 65537, (1 << 20) + 3];

function sealWith(a: Aead, key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array) {
  const out = new Uint8Array(plain.length);
  const tag = new Uint8Array(16);
  a.seal(key, iv, aad, plain, out, tag);
  return { out, tag };
}

describe('AES-256-GCM implementations', () => {
  it(`chooses ${native ? 'native' : 'node'} (GOTEN_AEAD=${process.env.GOTEN_AEAD ?? ''})`, () => {
    assert.equal(aead().name, native ? 'native' : 'node');
  });

  it('node:crypto round-trips and refuses a flipped bit with zeroed output', () => {
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const plain = new Uint8Array(randomBytes(70000));
    const { out, tag } = sealWith(nodeAead, key, iv, new Uint8Array(3), plain);
    const back = new Uint8Array(plain.length);
    assert.ok(nodeAead.open(key, iv, new Uint8Array(3), out, tag, back));
    assert.deepEqual(back, plain);
    out[69999] ^= 1;
    assert.equal(nodeAead.open(key, iv, new Uint8Array(3), out, tag, back), false);
    assert.ok(back.every((x) => x === 0));
  });

  it('native gives the bytes of node:crypto and each opens the other', { skip: native ? false : 'native addon without AEAD' }, () => {
    for (const n of SIZES) {
      for (const aadLen of [0, 36, 1000]) {
        const key = randomBytes(32);
        const iv = randomBytes(12);
        const aad = new Uint8Array(randomBytes(aadLen));
        const plain = new Uint8Array(randomBytes(n));
        const a = sealWith(native!, key, iv, aad, plain);
        const b = sealWith(nodeAead, key, iv, aad, plain);
        assert.deepEqual(a.out, b.out, `ciphertext, ${n} bytes, aad ${aadLen}`);
        assert.deepEqual(a.tag, b.tag, `tag, ${n} bytes, aad ${aadLen}`);
        const back = new Uint8Array(n);
        assert.ok(native!.open(key, iv, aad, b.out, b.tag, back));
        assert.deepEqual(back, plain);
        assert.ok(nodeAead.open(key, iv, aad, a.out, a.tag, back));
        assert.deepEqual(back, plain);
      }
    }
  });

  it('native refuses altered ciphertext, tag, AAD, IV or key and zeroes the output', { skip: native ? false : 'native addon without AEAD' }, () => {
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const aad = new Uint8Array(randomBytes(40));
    const plain = new Uint8Array(randomBytes(4096));
    const { out, tag } = sealWith(native!, key, iv, aad, plain);
    const flip = (b: Uint8Array, i: number): Uint8Array => {
      const c = b.slice();
      c[i] ^= 0x80;
      return c;
    };
    const cases: [string, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array][] = [
      ['ciphertext', key, iv, aad, flip(out, 100), tag],
      ['tag', key, iv, aad, out, flip(tag, 15)],
      ['aad', key, iv, flip(aad, 0), out, tag],
      ['iv', key, flip(iv, 11), aad, out, tag],
      ['key', flip(key, 31), iv, aad, out, tag],
    ];
    for (const [what, k, v, a, c, t] of cases) {
      const back = new Uint8Array(plain.length).fill(7);
      assert.equal(native!.open(k, v, a, c, t, back), false, what);
      assert.ok(back.every((x) => x === 0), `${what}: no unauthenticated plaintext`);
    }
  });

  it('native works in place and refuses bad arguments with errors, not crashes', { skip: native ? false : 'native addon without AEAD' }, () => {
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const plain = new Uint8Array(randomBytes(1000));
    const buf = plain.slice();
    const tag = new Uint8Array(16);
    native!.seal(key, iv, new Uint8Array(0), buf, buf, tag);
    assert.deepEqual(buf, sealWith(nodeAead, key, iv, new Uint8Array(0), plain).out, 'in place');
    assert.ok(native!.open(key, iv, new Uint8Array(0), buf, tag, buf));
    assert.deepEqual(buf, plain);
    const big = new Uint8Array(2000);
    assert.throws(() => native!.seal(key, iv, new Uint8Array(0), big.subarray(0, 1000), big.subarray(500, 1500), tag), /overlaps/);
    assert.throws(() => native!.seal(key.subarray(0, 16), iv, new Uint8Array(0), plain, new Uint8Array(1000), tag), /'key' must have 32 bytes/);
    assert.throws(() => native!.seal(key, iv, new Uint8Array(0), plain, new Uint8Array(999), tag), /'out' must have 1000 bytes/);
    assert.throws(() => native!.seal(key, iv, new Uint8Array(0), new Float32Array(4) as unknown as Uint8Array, new Uint8Array(16), tag), /Uint8Array/);
  });
});

describe('sealing into reused buffers', () => {
  it('Sealer.seal writes into a caller buffer; the prefix opens like a fresh blob', () => {
    const s = Sealer.fromKey(randomBytes(32));
    const ctx = { purpose: 'p', chunkId: '7', version: 3 };
    const plain = new Uint8Array(randomBytes(5000));
    const buf = new Uint8Array(sealedLength(plain.length, ctx) + 100);
    const blob = s.seal(plain, ctx, buf);
    assert.equal(blob.buffer, buf.buffer);
    assert.equal(blob.length, sealedLength(plain.length, ctx));
    assert.deepEqual(s.unseal(blob.slice(), ctx), plain);
    assert.throws(() => s.seal(plain, ctx, new Uint8Array(10)), /output buffer of 10 bytes/);
  });

  it('FileBacking.getInto reads the same bytes as get; the chunk store round-trips through it and refuses a replay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goten-aead-'));
    try {
      const backing = new FileBacking(dir);
      const store = new SealedChunkStore(Sealer.fromKey(randomBytes(32)), backing, 'activation:x');
      const a = new Uint8Array(randomBytes(300000));
      await store.put('0', a, 1);
      const raw = await backing.get('activation:x/0');
      let asked = 0;
      const viaInto = await backing.getInto('activation:x/0', (n) => ((asked = n), new Uint8Array(n + 17)));
      assert.equal(asked, raw!.length);
      assert.deepEqual(viaInto, raw);
      assert.equal(await backing.getInto('activation:x/none', (n) => new Uint8Array(n)), undefined);
      const into = new Uint8Array(a.length);
      assert.deepEqual(await store.get('0', into), a);
      const b = new Uint8Array(randomBytes(300000));
      await store.put('0', b, 2);
      assert.deepEqual(await store.get('0', into), b);
      await backing.put('activation:x/0', raw!); // the host puts version 1 back
      await rejectsCode(store.get('0', into), 'REPLAYED');
      assert.ok(into.every((x) => x === 0) || Buffer.from(into).equals(Buffer.from(b)), 'a refused read hands back no other plaintext');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
