// Chi-square uniformity of FieldStream over Z_P, and proof that the tests have power.
//
// Two statistics, both at significance α = 0.001 with fixed seeds (so the outcome is
// deterministic; a correct generator fails a given seed with probability 0.001):
//
// * coarse: 1024 contiguous bins of the centred range. P = 1023·2048 + 2039, so bins 0…1022
//   hold 2048 residues and bin 1023 holds 2039; expected counts use the exact bin sizes
//   (1023 degrees of freedom). Catches gross mapping errors.
// * fine: each of the 64 residues −32…31 in its own bin plus one bin for everything else
//   (64 degrees of freedom). Any "reduce a wider integer mod P" mapping without rejection
//   over-weights the residues where the wider range wraps, i.e. next to 0 in centred form;
//   the prototype's shift-by-9 mapping gives residues −18…17 five preimages out of 2^23
//   instead of four (a 25 % excess per residue, statistical distance 4.3e−6). Its coarse
//   effect (0.4 % in one bin) is far below what any affordable coarse test can see, which is
//   why the fine test exists.
//
// Thresholds come from the Wilson–Hilferty approximation of the chi-square quantile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { P as P_, HALF as HALF_, reduceCentred as reduceCentred_ } from '../../src/field/prime.js';
import { FieldStream, deriveStreamKey } from '../../src/field/prg.js';
import { chi2Threshold } from './helpers.js';

// Local copies: under tsx, imported bindings are getters, far too slow for 10^8-element loops.
const P = P_;
const HALF = HALF_;
const reduceCentred = reduceCentred_;


const BINS = 1024;
const WINDOW = 32; // fine test: residues −WINDOW … WINDOW−1
const CHUNK = 1 << 20;

type Kind = 'coarse' | 'fine';

/** Chi-square statistic of `n` centred values produced chunk by chunk by `fill`. */
function statistic(kind: Kind, n: number, fill: (out: Int32Array) => void): number {
  const hist = new Float64Array(kind === 'coarse' ? BINS : 2 * WINDOW + 1);
  const buf = new Int32Array(CHUNK);
  for (let done = 0; done < n; done += CHUNK) {
    const part = buf.subarray(0, Math.min(CHUNK, n - done));
    fill(part);
    if (kind === 'coarse') countCoarse(part, hist);
    else countFine(part, hist);
  }
  const probs = kind === 'coarse' ? COARSE_P : FINE_P;
  let s = 0;
  for (let j = 0; j < hist.length; j++) {
    const e = n * probs[j];
    s += (hist[j] - e) ** 2 / e;
  }
  return s;
}

function countCoarse(part: Int32Array, hist: Float64Array): void {
  let bad = 0;
  for (let i = 0; i < part.length; i++) {
    const v = part[i];
    bad |= (HALF - v) | (v + HALF); // sign bit set iff v is not centred
    hist[(v + HALF) >> 11]++;
  }
  if (bad < 0) assert.fail('a value is not centred');
}

/** Fine bins: v + WINDOW in [0, 2·WINDOW) counts in its own bin, the rest in the last one. */
function countFine(part: Int32Array, hist: Float64Array): void {
  let bad = 0;
  let outside = 0;
  for (let i = 0; i < part.length; i++) {
    const v = part[i];
    bad |= (HALF - v) | (v + HALF);
    const f = (v + WINDOW) >>> 0;
    if (f < 2 * WINDOW) hist[f]++;
    else outside++;
  }
  hist[2 * WINDOW] += outside;
  if (bad < 0) assert.fail('a value is not centred');
}

const COARSE_P = new Float64Array(BINS).map((_, j) => (j < BINS - 1 ? 2048 : P - (BINS - 1) * 2048) / P);
const FINE_P = new Float64Array(2 * WINDOW + 1).map((_, j) => (j < 2 * WINDOW ? 1 : P - 2 * WINDOW) / P);

const N_COARSE = 1 << 22;
const N_FINE = 1 << 27; // ≈ 64 draws per residue: enough for the fine test to see a 25 % excess
const COARSE_LIMIT = chi2Threshold(BINS - 1); // ≈ 1168
const FINE_LIMIT = chi2Threshold(2 * WINDOW); // ≈ 105

const KEY = deriveStreamKey(new Uint8Array(32).fill(0x5a), 'uniformity');

/** Raw AES-128-CTR keystream words, for the deliberately wrong generators below. */
function rawWords(id: number): (out: Int32Array) => void {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(id, 4);
  const c = createCipheriv('aes-128-ctr', KEY, iv);
  const zeros = new Uint8Array(65536);
  return (out) => {
    for (let i = 0; i < out.length; i += 16384) {
      const m = Math.min(16384, out.length - i);
      const ks = c.update(zeros.subarray(0, 4 * m));
      out.set(new Int32Array(ks.buffer, ks.byteOffset, m), i);
    }
  };
}

test('FieldStream passes both chi-square tests at α = 0.001', (t) => {
  const s = FieldStream.open(KEY, 1n);
  const coarse = statistic('coarse', N_COARSE, (out) => s.fillCentred(out));
  const s2 = FieldStream.open(KEY, 2n);
  const fine = statistic('fine', N_FINE, (out) => s2.fillCentred(out));
  t.diagnostic(`coarse χ² = ${coarse.toFixed(1)} (limit ${COARSE_LIMIT.toFixed(1)}, 1023 dof)`);
  t.diagnostic(`fine χ² = ${fine.toFixed(1)} (limit ${FINE_LIMIT.toFixed(1)}, 64 dof)`);
  assert.ok(coarse < COARSE_LIMIT, `coarse χ² ${coarse}`);
  assert.ok(fine < FINE_LIMIT, `fine χ² ${fine}`);
});

test("the fine test rejects the prototype's shift-by-9 mapping", (t) => {
  // Goten's get_r: arithmetic shift of each 32-bit word by 9 → [−2^22, 2^22), then reduce mod P.
  const words = rawWords(3);
  const fine = statistic('fine', N_FINE, (out) => {
    words(out);
    for (let i = 0; i < out.length; i++) out[i] = reduceCentred(out[i] >> 9);
  });
  t.diagnostic(`shift-by-9 fine χ² = ${fine.toFixed(1)} (limit ${FINE_LIMIT.toFixed(1)})`);
  assert.ok(fine > FINE_LIMIT, `biased generator passed: χ² ${fine}`);
});

test('the coarse test rejects a gross mapping error (20-bit instead of 21-bit mask)', (t) => {
  const words = rawWords(4);
  const coarse = statistic('coarse', 1 << 18, (out) => {
    words(out);
    for (let i = 0; i < out.length; i++) out[i] = reduceCentred(out[i] & 0xfffff);
  });
  t.diagnostic(`20-bit coarse χ² = ${coarse.toFixed(0)} (limit ${COARSE_LIMIT.toFixed(1)})`);
  assert.ok(coarse > COARSE_LIMIT);
});
