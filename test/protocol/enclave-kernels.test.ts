/**
 * The native enclave kernels agree bit for bit with the TypeScript reference
 * (src/protocol/enclave-kernels.ts): PRG streams (rejections included), fused
 * quantize + mask + share, reconstruct + dequantize with drawn output masks, and
 * the max scan. Skipped where the addon or AES-NI is unavailable.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FieldStream } from '../../src/field/prg.js';
import { NoiseStream } from '../../src/field/noise.js';
import { requireNativeModule } from '../../src/addon/addon.js';
import { HALF } from '../../src/field/prime.js';
import { NonCentredPartError, type StreamRef, createJsKernels, createNativeKernels, nativeKernelsAvailability } from '../../src/protocol/enclave-kernels.js';

const avail = nativeKernelsAvailability();
const skip = avail.available ? false : `native enclave kernels unavailable: ${avail.reason}`;

function stream(id: bigint): StreamRef {
  return { key: new Uint8Array(randomBytes(16)), id };
}

function same(a: ArrayBufferView, b: ArrayBufferView, what: string): void {
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  assert.ok(x.equals(y), `${what} differs`);
}

/** A stream whose first `n` words contain at least one rejected candidate (v ≥ P). */
function streamWithRejection(n: number): StreamRef {
  for (let t = 0; t < 200; t++) {
    const s = stream(BigInt(t) << 20n);
    const f = FieldStream.open(s.key, s.id);
    f.fillCentred(new Int32Array(n));
    if (f.wordsConsumed > n) return s;
  }
  throw new Error('no rejection found');
}

function tensor(n: number, seed: number, scale: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return x;
}

/** The addon's SIMD switch (every level must give the reference's bits). */
const simd = skip
  ? null
  : (requireNativeModule() as { setEnclaveSimd(l: string): string; enclaveInfo(): { cpuSimd: string } });
const LEVELS = ['avx512', 'avx2', 'scalar'];
const levels = simd ? LEVELS.slice(LEVELS.indexOf(simd.enclaveInfo().cpuSimd)) : ['scalar'];

for (const level of levels) describe(`native enclave kernels (${level} loops and AES path) equal the TypeScript reference`, { skip }, () => {
  const js = createJsKernels();
  const nat = skip ? js : createNativeKernels();
  before(() => assert.equal(simd?.setEnclaveSimd(level), level));
  after(() => simd?.setEnclaveSimd(LEVELS[0]));

  it('PRG: centred elements, including rejected words, for odd lengths', () => {
    for (const n of [1, 7, 1023, 1025, 70_001]) {
      const s = stream(BigInt(n));
      same(nat.fillCentred(s, new Int32Array(n)), js.fillCentred(s, new Int32Array(n)), `stream of ${n}`);
    }
    const r = streamWithRejection(600_000);
    same(nat.fillCentred(r, new Int32Array(600_000)), js.fillCentred(r, new Int32Array(600_000)), 'stream with a rejection');
  });

  it('rounding noise: native counter-based words equal field/noise.ts for several keys, ids, offsets and lengths', () => {
    const prgNoise = (requireNativeModule() as { prgNoise(ref: Uint8Array, out: Float64Array, start?: number): void }).prgNoise;
    const ids = [0n, 1n, 0xdeadbeefn, (1n << 64n) - 1n, 42n << 40n];
    for (const [t, id] of ids.entries()) {
      const s = stream(id);
      const ref = new Uint8Array(24);
      ref.set(s.key);
      new DataView(ref.buffer).setBigUint64(16, s.id, false);
      // lengths around the 16- and 8-lane widths and the 1024-word blocks; offsets not multiples of them
      for (const [start, n] of [[0, 1], [0, 15], [3, 17], [16, 33], [1000, 1023], [7, 1025], [65_535, 4099], [2 ** 32 - 40, 40], [t * 12_345, 100_003]]) {
        const a = new Float64Array(n);
        prgNoise(ref, a, start);
        const b = NoiseStream.open(s.key, s.id).seek(start).fillNoise(new Float64Array(n));
        same(a, b, `noise of stream ${id} at ${start}, ${n} values`);
      }
    }
    assert.throws(() => prgNoise(new Uint8Array(24), new Float64Array(41), 2 ** 32 - 40), RangeError);
  });

  it('quantize + mask + share, with and without the mask and share outputs', () => {
    const n = 300_007;
    const noise = stream(1n);
    const u = streamWithRejection(n);
    const s0 = stream(3n);
    for (const [x, e] of [
      [tensor(n, 1, 3.7), 1],
      [tensor(n, 2, 1e-30), -100],
      [tensor(n, 3, 1000), 9 + 2], // with headroom
      [tensor(n, 4, 0.5), -3], // values that saturate at 127 / −128
    ] as const) {
      const out = () => [new Int32Array(n), new Int32Array(n), new Int32Array(n)];
      const [qa, ea, sa] = out();
      const [qb, eb, sb] = out();
      js.quantizeMaskShare(x, e, noise, u, s0, qa, ea, sa);
      nat.quantizeMaskShare(x, e, noise, u, s0, qb, eb, sb);
      same(qb, qa, `q (e = ${e})`);
      same(eb, ea, `masked (e = ${e})`);
      same(sb, sa, `share (e = ${e})`);
      const [, ec] = out();
      nat.quantizeMaskShare(x, e, noise, u, null, null, ec, null);
      same(ec, ea, 'masked without q or share');
      const [qd] = out();
      nat.quantizeMaskShare(x, e, noise, null, null, qd, null, null);
      same(qd, qa, 'q alone');
    }
  });

  it('reconstruct + dequantize with 1–4 parts and 0–3 drawn masks; the max for the guard', () => {
    const n = 100_003;
    const parts = [11n, 12n, 13n, 14n].map((id) => js.fillCentred(stream(id), new Int32Array(n)));
    parts[3].fill(HALF, 0, 5).fill(-HALF, 5, 10); // extreme values
    const masks = [stream(21n), streamWithRejection(n), stream(23n)];
    for (let np = 1; np <= 4; np++) {
      for (let nm = 0; nm <= Math.min(3, 6 - np); nm++) {
        for (const scaleExp of [-12, 0, 7, -140]) {
          const a = new Float32Array(n);
          const b = new Float32Array(n);
          const ma = js.reconstructDequantize(parts.slice(0, np), masks.slice(0, nm), scaleExp, a);
          const mb = nat.reconstructDequantize(parts.slice(0, np), masks.slice(0, nm), scaleExp, b);
          same(b, a, `${np} parts, ${nm} masks, 2^${scaleExp}`);
          assert.equal(mb, ma, 'max |C|');
        }
      }
    }
  });

  it('max scan and centred check; non-finite values are refused with the element named', () => {
    const x = tensor(10_001, 5, 2);
    x[7777] = -9.5;
    assert.equal(nat.maxAbs(x), js.maxAbs(x));
    assert.equal(nat.exponent(x), 3);
    assert.equal(nat.exponent(new Float32Array(5)), 0);
    const v = js.fillCentred(stream(9n), new Int32Array(5000));
    assert.equal(nat.isCentred(v), true);
    for (const bad of [HALF + 1, -HALF - 1, 2 ** 31 - 1, -(2 ** 31)]) {
      const w = v.slice();
      w[4321] = bad;
      assert.equal(nat.isCentred(w), false, `${bad}`);
      assert.equal(js.isCentred(w), false);
    }
    x[4242] = Number.NaN;
    assert.throws(() => nat.maxAbs(x), /non-finite.*4242/);
    x[4242] = Number.POSITIVE_INFINITY;
    assert.throws(() => nat.maxAbs(x), /non-finite.*4242/);
  });

  it('reconstruction checks the untrusted parts it is told to, naming the first bad one', () => {
    const n = 5000;
    const good = [1n, 2n, 3n].map((id) => js.fillCentred(stream(id), new Int32Array(n)));
    for (const k of [0, 1]) {
      for (const bad of [HALF + 1, -(2 ** 31)]) {
        const parts = good.map((p) => p.slice());
        parts[k][n - 1] = bad;
        for (const kern of [js, nat]) {
          assert.throws(() => kern.reconstructDequantize(parts, [], 0, new Float32Array(n), 2), (e: Error) => e instanceof NonCentredPartError && e.part === k);
        }
      }
    }
    const ok = new Float32Array(n);
    nat.reconstructDequantize(good, [], 0, ok, 2);
    const ref = new Float32Array(n);
    js.reconstructDequantize(good, [], 0, ref, 0);
    same(ok, ref, 'checked reconstruction');
  });

  it('lean sweep: quantize + mask (s0 + d) + pack, with and without q', () => {
    for (const n of [1, 7, 8, 1023, 1025, 300_007]) {
      const noise = stream(31n);
      const s0 = streamWithRejection(Math.max(n, 600_000));
      const d = stream(33n);
      for (const [x, e] of [
        [tensor(n, 6, 3.7), 1],
        [tensor(n, 7, 0.5), -3],
        [tensor(n, 8, 1e-30), -100],
      ] as const) {
        const qa = new Int32Array(n);
        const qb = new Int32Array(n);
        const pa = new Uint8Array(3 * n);
        const pb = new Uint8Array(3 * n);
        const maxA = js.quantizeMaskPack(x, e, noise, s0, d, qa, pa);
        const maxB = nat.quantizeMaskPack(x, e, noise, s0, d, qb, pb);
        assert.equal(maxB, maxA, `max|x| scanned by the sweep (n = ${n}, e = ${e})`);
        assert.equal(maxA, js.maxAbs(x));
        same(qb, qa, `q (n = ${n}, e = ${e})`);
        same(pb, pa, `packed (n = ${n}, e = ${e})`);
        // the packed values are q − s0 − d, centred
        const v = new Int32Array(n);
        assert.equal(js.unpack(pa, v), true);
        const m0 = js.fillCentred(s0, new Int32Array(n));
        const m1 = js.fillCentred(d, new Int32Array(n));
        for (const i of [0, n >> 1, n - 1]) {
          const r = (((qa[i] - m0[i] - m1[i] - v[i]) % 2097143) + 2097143) % 2097143;
          assert.equal(r, 0, `element ${i} is q − s0 − d mod P`);
        }
        const pc = new Uint8Array(3 * n);
        nat.quantizeMaskPack(x, e, noise, s0, d, null, pc);
        same(pc, pa, 'packed without q');
        const qc = new Int32Array(n);
        assert.equal(nat.quantizeMaskPack(x, e, noise, null, null, qc, null), maxA, 'max|x| without packing');
        same(qc, qa, 'q alone');
        if (n > 0) {
          // a non-finite element anywhere (the vector body or the scalar tail) is named, not scanned past
          const at = n - 1 - (n >> 2);
          for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY]) {
            const y = x.slice();
            y[at] = bad;
            assert.throws(() => nat.quantizeMaskPack(y, e, noise, s0, d, null, pc), new RegExp(`non-finite.*${at}`));
          }
        }
      }
    }
  });

  it('pack / unpack: 3 bytes per element, range checked, identical to the reference', () => {
    for (const n of [0, 1, 5, 8, 9, 1000, 100_003]) {
      const v = js.fillCentred(stream(BigInt(40 + n)), new Int32Array(n));
      if (n >= 10) v.fill(1048571, 0, 3).fill(-1048571, 3, 6);
      const pa = js.pack(v, new Uint8Array(3 * n));
      const pb = nat.pack(v, new Uint8Array(3 * n));
      same(pb, pa, `packed ${n}`);
      const back = new Int32Array(n);
      assert.equal(nat.unpack(pa, back), true);
      same(back, v, `round trip ${n}`);
      if (n === 0) continue;
      for (const bad of [0x7fffff, 0x800000, HALF + 1, -HALF - 1]) {
        for (const at of [0, n - 1, n >> 1]) {
          const p = pa.slice();
          p[3 * at] = bad & 0xff;
          p[3 * at + 1] = (bad >> 8) & 0xff;
          p[3 * at + 2] = (bad >> 16) & 0xff;
          assert.equal(nat.unpack(p, new Int32Array(n)), false, `${bad} at ${at} of ${n} (native)`);
          assert.equal(js.unpack(p, new Int32Array(n)), false, `${bad} at ${at} of ${n} (js)`);
        }
      }
    }
  });

  it('reconstruction from packed parts equals the Int32 parts, and checks them', () => {
    const n = 70_001;
    const parts = [51n, 52n].map((id) => js.fillCentred(stream(id), new Int32Array(n)));
    const packed = parts.map((p) => js.pack(p, new Uint8Array(3 * n)));
    const masks = [stream(53n)];
    const ref = new Float32Array(n);
    const mref = js.reconstructDequantize(parts, masks, -9, ref);
    for (const kern of [js, nat]) {
      const out = new Float32Array(n);
      assert.equal(kern.reconstructDequantize([packed[0], parts[1]], masks, -9, out, 1), mref);
      same(out, ref, `${kern.name}: packed + Int32`);
      const bad = packed[0].slice();
      bad[3 * (n - 1) + 2] = 0x40; // 2^22: outside the centred range
      assert.throws(() => kern.reconstructDequantize([bad, parts[1]], masks, -9, new Float32Array(n), 1), (e: Error) => e instanceof NonCentredPartError && e.part === 0);
    }
    // the lean online result: one packed part and one mask, unpacked, checked and reconstructed in one pass
    const ref1 = new Float32Array(n);
    const mref1 = js.reconstructDequantize([parts[0]], masks, -9, ref1);
    for (const kern of [js, nat]) {
      const out = new Float32Array(n);
      assert.equal(kern.reconstructDequantize([packed[0]], masks, -9, out, 1), mref1);
      same(out, ref1, `${kern.name}: one packed part + one mask`);
      for (const at of [1000, n - 1]) {
        const bad = packed[0].slice();
        bad[3 * at + 2] = 0xbf; // −2^22 − …: outside the centred range
        assert.throws(() => kern.reconstructDequantize([bad], masks, -9, new Float32Array(n), 1), (e: Error) => e instanceof NonCentredPartError && e.part === 0, `${kern.name}: bad at ${at}`);
      }
    }
  });

  it('argument errors are exceptions, not crashes', () => {
    const x = new Float32Array(10);
    assert.throws(() => nat.quantizeMaskPack(x, 0, stream(1n), stream(2n), stream(3n), null, new Uint8Array(29)), RangeError);
    assert.throws(() => nat.quantizeMaskPack(x, 0, stream(1n), null, null, null, new Uint8Array(30)), TypeError);
    assert.throws(() => nat.unpack(new Uint8Array(29), new Int32Array(10)), RangeError);
    assert.throws(() => nat.reconstructDequantize([new Uint8Array(29)], [], 0, x), RangeError);
    assert.throws(() => nat.quantizeMaskShare(x, 0, stream(1n), stream(2n), null, null, new Int32Array(9), null), RangeError);
    assert.throws(() => nat.quantizeMaskShare(x, 500, stream(1n), null, null, new Int32Array(10), null, null), RangeError);
    assert.throws(() => nat.reconstructDequantize([], [], 0, x), RangeError);
    assert.throws(() => nat.reconstructDequantize([new Int32Array(9)], [], 0, x), RangeError);
  });
});
