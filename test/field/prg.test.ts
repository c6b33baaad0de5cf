// FieldStream: keystream layout, mapping, addressability, piecewise reads, noise, key and id helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { P, HALF } from '../../src/field/prime.js';
import { FieldStream, deriveStreamKey, streamIdFor, parseStreamId, STREAM_KEY_BYTES } from '../../src/field/prg.js';

const MASTER = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const KEY = deriveStreamKey(MASTER, 'test');

/** The raw keystream words of (key, id), computed block by block with AES-128-ECB. */
function referenceWords(key: Uint8Array, id: bigint, nWords: number): Uint32Array {
  const ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
  const blocks = Math.ceil(nWords / 4);
  const counters = Buffer.alloc(16 * blocks);
  for (let j = 0; j < blocks; j++) {
    counters.writeBigUInt64BE(id, 16 * j);
    counters.writeBigUInt64BE(BigInt(j), 16 * j + 8);
  }
  const ks = ecb.update(counters);
  const w = new Uint32Array(nWords);
  for (let i = 0; i < nWords; i++) w[i] = ks.readUInt32LE(4 * i);
  return w;
}

/** The documented mapping, written as plainly as possible. */
function referenceCentred(words: Uint32Array): { values: Int32Array; rejected: number } {
  const values = new Int32Array(words.length);
  let n = 0;
  for (const w of words) {
    const v = w % 2 ** 21;
    if (v < P) values[n++] = v > HALF ? v - P : v;
  }
  return { values: values.subarray(0, n), rejected: words.length - n };
}

test('keystream layout: IV = id (BE, high 8 bytes) ‖ block counter (BE, low 8 bytes), words LE', () => {
  const id = 0x0123456789abcdefn;
  const words = referenceWords(KEY, id, 64);
  const { values, rejected } = referenceCentred(words);
  assert.equal(rejected, 0);
  const s = FieldStream.open(KEY, id);
  assert.deepEqual(s.fillCentred(new Int32Array(64)), values);
  assert.equal(s.wordsConsumed, 64);
});

test('rejection sampling: 2^21 elements equal the reference mapping, with rejections exercised', () => {
  const n = 1 << 21;
  const s = FieldStream.open(KEY, 7n);
  const out = s.fillCentred(new Int32Array(n));
  const words = referenceWords(KEY, 7n, s.wordsConsumed);
  const { values, rejected } = referenceCentred(words);
  assert.ok(rejected >= 1, 'this seed should hit at least one rejected word'); // expected ≈ 9
  assert.equal(s.wordsConsumed, n + rejected);
  assert.equal(values.length, n);
  for (let i = 0; i < n; i++) if (out[i] !== values[i]) assert.fail(`element ${i}: ${out[i]} vs ${values[i]}`);
});

test('addressable: same key and id ⇒ same output; other id or key ⇒ different', () => {
  const a = FieldStream.open(KEY, 42n).fillCentred(new Int32Array(4096));
  const b = FieldStream.open(Uint8Array.from(KEY), 42n).fillCentred(new Int32Array(4096));
  const c = FieldStream.open(KEY, 43n).fillCentred(new Int32Array(4096));
  const d = FieldStream.open(deriveStreamKey(MASTER, 'other'), 42n).fillCentred(new Int32Array(4096));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.notDeepEqual(a, d);
  // Ids that differ only in the top bit give unrelated streams too.
  const top = FieldStream.open(KEY, 42n | (1n << 63n)).fillCentred(new Int32Array(16));
  assert.notDeepEqual(top, a.subarray(0, 16));
});

test('reading in pieces (any sizes, offsets) equals one read', () => {
  const n = 300_000;
  const whole = FieldStream.open(KEY, 9n).fillCentred(new Int32Array(n));
  const pieces = new Int32Array(n);
  const s = FieldStream.open(KEY, 9n);
  const sizes = [0, 1, 3, 16, 1000, 4095, 4096, 4097, 65536, 70_001, 0, 7];
  let at = 0;
  for (let k = 0; at < n; k++) {
    const len = Math.min(n - at, sizes[k % sizes.length]);
    s.fillCentred(pieces, at, len);
    at += len;
  }
  assert.deepEqual(pieces, whole);
  // Noise read in pieces equals noise read at once, in float64 and float32 alike.
  const n64 = FieldStream.open(KEY, 10n).fillNoise(new Float64Array(50_000));
  const s32 = FieldStream.open(KEY, 10n);
  const n32 = new Float32Array(50_000);
  for (let i = 0; i < n32.length; i += 777) s32.fillNoise(n32, i, Math.min(777, n32.length - i));
  assert.deepEqual(Float64Array.from(n32), n64);
});

test('noise: g = (w >>> 8)·2^−24 on the 2^−24 grid in [0, 1), mean ≈ 1/2', () => {
  const n = 100_000;
  const g = FieldStream.open(KEY, 11n).fillNoise(new Float64Array(n));
  const words = referenceWords(KEY, 11n, n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (g[i] !== (words[i] >>> 8) / 2 ** 24) assert.fail(`noise ${i}`);
    if (!(g[i] >= 0 && g[i] < 1) || !Number.isInteger(g[i] * 2 ** 24)) assert.fail(`off grid ${g[i]}`);
    sum += g[i];
  }
  // sd of the mean = sqrt(1/12/n) ≈ 0.0009; 6 sd.
  assert.ok(Math.abs(sum / n - 0.5) < 0.006, `mean ${sum / n}`);
});

test('bad arguments are refused clearly', () => {
  assert.throws(() => FieldStream.open(new Uint8Array(15), 0n), TypeError);
  assert.throws(() => FieldStream.open(new Uint8Array(STREAM_KEY_BYTES), -1n), RangeError);
  assert.throws(() => FieldStream.open(new Uint8Array(STREAM_KEY_BYTES), 1n << 64n), RangeError);
  const s = FieldStream.open(KEY, 0n);
  assert.throws(() => s.fillCentred(new Int32Array(4), 2, 3), RangeError);
  assert.throws(() => s.fillNoise(new Float64Array(4), -1), RangeError);
  assert.throws(() => deriveStreamKey(new Uint8Array(16), 'x'), TypeError);
  assert.throws(() => deriveStreamKey(MASTER, ''), TypeError);
});

test('deriveStreamKey: 16 bytes, deterministic, label-separated, pinned test vector', () => {
  assert.equal(KEY.length, 16);
  assert.deepEqual(deriveStreamKey(MASTER, 'test'), KEY);
  assert.notDeepEqual(deriveStreamKey(MASTER, 'test2'), KEY);
  // HKDF-SHA256(ikm = 00 01 … 1f, salt = "", info = "goten-ts/field/v1/mask-U", L = 16).
  const ikm = new Uint8Array(32).map((_, i) => i);
  assert.equal(Buffer.from(deriveStreamKey(ikm, 'mask-U')).toString('hex'), PINNED_KEY_HEX);
});
const PINNED_KEY_HEX = 'c253f4919864d6b05c6f11980339eb20'; // checked with an independent RFC 5869 implementation (Python hmac)

test('streamIdFor: documented bit layout, round trip, ranges', () => {
  assert.equal(streamIdFor(0, 0, 0), 0n);
  assert.equal(streamIdFor(1, 2, 3, 4), 0x0001_02_04_00000003n);
  assert.equal(streamIdFor(65535, 255, 2 ** 32 - 1, 255), (1n << 64n) - 1n);
  for (const [op, pass, inv, slot] of [[7, 1, 123456, 0], [65535, 2, 0, 9], [0, 255, 2 ** 32 - 1, 255]]) {
    assert.deepEqual(parseStreamId(streamIdFor(op, pass, inv, slot)), { op, pass, invocation: inv, slot });
  }
  const seen = new Set<bigint>();
  for (let op = 0; op < 4; op++) for (let pass = 0; pass < 3; pass++) for (let inv = 0; inv < 4; inv++) seen.add(streamIdFor(op, pass, inv));
  assert.equal(seen.size, 48);
  assert.throws(() => streamIdFor(65536, 0, 0), RangeError);
  assert.throws(() => streamIdFor(0, 256, 0), RangeError);
  assert.throws(() => streamIdFor(0, 0, 2 ** 32), RangeError);
  assert.throws(() => streamIdFor(0, 0, 1.5), RangeError);
  assert.throws(() => streamIdFor(0, 0, 0, -1), RangeError);
});

/** SHA-256 of the first n elements of a stream as little-endian int32 bytes. */
function digest(values: Int32Array): string {
  const b = Buffer.alloc(4 * values.length);
  for (let i = 0; i < values.length; i++) b.writeInt32LE(values[i], 4 * i);
  return createHash('sha256').update(b).digest('hex');
}

test('two separate OS processes draw the identical stream from the same seed', () => {
  const prgUrl = new URL('../../src/field/prg.ts', import.meta.url).href;
  const script = `
    import { FieldStream, deriveStreamKey, streamIdFor } from ${JSON.stringify(prgUrl)};
    import { createHash } from 'node:crypto';
    const master = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
    const out = new Int32Array(1e6);
    FieldStream.open(deriveStreamKey(master, 'test'), streamIdFor(3, 1, 17)).fillCentred(out);
    const b = Buffer.alloc(4 * out.length);
    for (let i = 0; i < out.length; i++) b.writeInt32LE(out[i], 4 * i);
    process.stdout.write(createHash('sha256').update(b).digest('hex'));
  `;
  const run = (): string =>
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  const first = run();
  const second = run();
  assert.match(first, /^[0-9a-f]{64}$/);
  assert.equal(second, first);
  // And the parent, reading in uneven pieces, agrees with both.
  const s = FieldStream.open(deriveStreamKey(MASTER, 'test'), streamIdFor(3, 1, 17));
  const mine = new Int32Array(1e6);
  for (let i = 0; i < mine.length; i += 4099) s.fillCentred(mine, i, Math.min(4099, mine.length - i));
  assert.equal(digest(mine), first);
});
