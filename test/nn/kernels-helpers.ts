/**
 * Shared by the NnKernels tests: the addon's kernels (or why they are unavailable), a runner
 * over both native loop variants (AVX2 and portable), bit-exact comparison, and inputs with
 * the awkward values (signed zeros, ties, subnormals, huge values, infinities).
 */
import assert from 'node:assert/strict';
import { createNativeNnKernels, loadNnAddon, type NnAddon } from '../../src/nn/kernels/native.js';
import type { NnKernels } from '../../src/nn/kernels/types.js';
import { Rng } from '../../src/nn/rng.js';

const load = loadNnAddon();

/** The addon's raw entry points, or null (then `skipNative` says why). */
export const nnAddon: NnAddon | null = load.ok ? load.addon : null;
/** `false` when the native kernels are available, else the reason (node:test's `skip` option). */
export const skipNative: string | false = load.ok ? false : `native kernels unavailable: ${load.reason}`;

/**
 * Runs `fn` with the native kernels once per loop variant this CPU has: 'avx2' (when it has AVX2)
 * and 'scalar' (the portable loops, forced through setNnSimd(false)); restores the default after.
 */
export function forEachNative(fn: (k: NnKernels, variant: 'avx2' | 'scalar') => void): void {
  const a = addon();
  const k = createNativeNnKernels(a);
  try {
    for (const simd of variants(a)) fn(k, simd ? 'avx2' : 'scalar');
  } finally {
    a.setNnSimd(true);
  }
}

/** forEachNative for an async `fn`. */
export async function forEachNativeAsync(fn: (k: NnKernels, variant: 'avx2' | 'scalar') => Promise<void>): Promise<void> {
  const a = addon();
  const k = createNativeNnKernels(a);
  try {
    for (const simd of variants(a)) await fn(k, simd ? 'avx2' : 'scalar');
  } finally {
    a.setNnSimd(true);
  }
}

function addon(): NnAddon {
  if (nnAddon === null) throw new Error('no native addon (the test should have been skipped)');
  return nnAddon;
}

/** Sets each loop variant in turn (AVX2 first when the CPU has it), yielding whether AVX2 is on. */
function* variants(a: NnAddon): Generator<boolean> {
  for (const simd of a.nnInfo().cpuAvx2 ? [true, false] : [false]) {
    assert.equal(a.setNnSimd(simd), simd, 'setNnSimd');
    yield simd;
  }
}

type Typed = Float32Array | Float64Array | Int32Array;

/** Bit patterns of a typed array (any NaN maps to one pattern: payloads are not part of the contract). */
function patterns(a: Typed): Uint32Array | BigUint64Array {
  if (a instanceof Float64Array) {
    const b = new BigUint64Array(a.length);
    const v = new BigUint64Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < a.length; i++) b[i] = Number.isNaN(a[i]) ? 0x7ff8000000000000n : v[i];
    return b;
  }
  const b = new Uint32Array(a.length);
  const v = new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (let i = 0; i < a.length; i++) b[i] = a instanceof Float32Array && Number.isNaN(a[i]) ? 0x7fc00000 : v[i];
  return b;
}

/** Asserts got and want are bit for bit the same (+0 ≠ −0), naming the first difference. */
export function assertSameBits(got: Typed, want: Typed, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const g = patterns(got);
  const w = patterns(want);
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== w[i]) assert.fail(`${what}: element ${i} of ${g.length} is ${got[i]} (bits ${g[i].toString(16)}), expected ${want[i]} (bits ${w[i].toString(16)})`);
  }
}

/** Uniform values in [−scale, scale) from a seeded Rng. */
export function uniform(n: number, seed: number, scale = 1): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => (2 * r.next() - 1) * scale);
}

/**
 * Uniform values with about one in eight replaced by an awkward one: ±0, a repeat of the previous
 * value (ties), subnormals, values near ±1e30 and, when `infinite`, ±Infinity.
 */
export function awkward(n: number, seed: number, infinite = true): Float32Array {
  const r = new Rng(seed);
  const special = [0, -0, 1e-40, -1e-40, 1e30, -1e30, ...(infinite ? [Infinity, -Infinity] : [])];
  const a = uniform(n, seed + 1000);
  for (let i = 0; i < n; i++) {
    const u = r.next();
    if (u < 0.06) a[i] = special[r.int(special.length)];
    else if (u < 0.12 && i > 0) a[i] = a[i - 1];
  }
  return a;
}

/**
 * Values in [−1, 1) with, at about one position in eight, the pair +2^40, −2^40 at adjacent positions
 * (adjacent lanes of lanes.ts): partial sums holding a 2^40 lose the small values' low bits, and how
 * many depends on when the pair cancels, so the float64 sum depends on the summation order in bits
 * that survive rounding to float32 — the data that tells two summation orders apart.
 */
export function cancelling(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  const a = uniform(n, seed + 2000);
  for (let i = 0; i + 1 < n; i++) {
    if (r.next() >= 0.125) continue;
    a[i] = 2 ** 40;
    a[++i] = -(2 ** 40);
  }
  return a;
}

/** Copies of every array in `arrays`, for running two implementations on the same inputs. */
export function clones<T extends Typed[]>(...arrays: T): T {
  return arrays.map((a) => a.slice()) as T;
}
