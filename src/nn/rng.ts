/**
 * Deterministic pseudo-random numbers for the engine (initialisation, dropout
 * masks, data shuffling): xoshiro128** seeded through splitmix32.
 *
 * Not cryptographic. Everything that must be unpredictable to workers (masks,
 * shares, quantization noise) comes from src/field's keyed PRG streams, never
 * from here. What this generator guarantees is reproducibility: the same seed
 * gives the same sequence on every machine and Node version (only 32-bit
 * integer operations and exactly-rounded double arithmetic are used), so
 * replicated enclaves started from the same seed stay bit-identical.
 */

/** splitmix32 step: returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /** Seeds from any finite number (its low 32 bits and the high bits are both mixed in). */
  constructor(seed: number = 0) {
    this.seed(seed);
  }

  /** Re-seeds in place. */
  seed(seed: number): void {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be finite, got ${seed}`);
    const lo = seed | 0;
    const hi = Math.floor(seed / TWO_POW_32) | 0;
    let s = lo ^ Math.imul(hi, 0x27d4eb2f);
    let out: number;
    [s, out] = splitmix32(s);
    this.a = out | 0;
    [s, out] = splitmix32(s);
    this.b = out | 0;
    [s, out] = splitmix32(s);
    this.c = out | 0;
    [s, out] = splitmix32(s);
    this.d = out | 0;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // the all-zero state is a fixed point
  }

  /** A uniform 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform in [0, 1) with 53 bits of resolution (two draws). */
  nextDouble(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /**
   * Standard normal N(0, 1) by Box–Muller: sqrt(−2 ln u1) · cos(2π u2) with u1 in (0, 1].
   * Uses two fresh draws per call (no cached spare, so the state is just the four words).
   */
  normal(): number {
    const u1 = 1 - this.nextDouble();
    const u2 = this.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform integer in [0, n), exactly uniform (rejection sampling), n ≤ 2^32. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    const limit = TWO_POW_32 - (TWO_POW_32 % n); // accept u < limit: a multiple of n values
    for (;;) {
      const u = this.nextU32();
      if (u < limit) return u % n;
    }
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A new independent generator seeded from this one (advances this one by two draws). */
  fork(): Rng {
    const r = new Rng(0);
    r.seed(this.nextU32() * TWO_POW_32 + this.nextU32());
    return r;
  }

  /** The four 32-bit state words (unsigned), e.g. for checkpoints. */
  getState(): number[] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** Restores a state from getState(). */
  setState(s: readonly number[]): void {
    if (s.length !== 4 || s.some((v) => !Number.isInteger(v) || v < 0 || v >= TWO_POW_32)) {
      throw new RangeError('Rng.setState: expected four unsigned 32-bit integers');
    }
    if (s.every((v) => v === 0)) throw new RangeError('Rng.setState: the all-zero state is invalid');
    this.a = s[0] | 0;
    this.b = s[1] | 0;
    this.c = s[2] | 0;
    this.d = s[3] | 0;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
