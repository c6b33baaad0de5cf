/**
 * SWALP-style dynamic quantization (docs/protocol.md, operands): one power-of-two exponent per tensor,
 * 8-bit signed values, stochastic rounding.
 *
 * For a tensor x (Float32Array or Float64Array):
 *
 *     m = max_i |x_i|
 *     e = floor(log2 m), clamped below at EXP_MIN      (e = 0 when m = 0)
 *     q_i = clamp(floor(x_i · 2^(6 − e) + g_i), −128, 127)
 *
 * with g_i uniform noise in [0, 1) (2^−24 grid; the protocol's comes from `NoiseStream`, noise.ts). Since m < 2^(e+1),
 * |x_i · 2^(6−e)| < 128, so the only clamp that can bite is q = 128 → 127 (which, like every
 * saturation, biases that one element by < 1 unit). Otherwise E[q_i | x_i] = x_i · 2^(6−e) up
 * to the 2^−24 resolution of the noise, i.e. the rounding is unbiased. A product of two
 * quantized operands carries the scale 2^(eA + eB − 12) (`dequantize`).
 *
 * Determinism: e is read exactly from the float64 bit pattern of m (no Math.log2, so never
 * off by one at powers of two); 2^k is built from bits; x·2^(6−e) is an exact power-of-two
 * scaling; the one rounding step (the float64 addition of g) and floor are IEEE-754
 * operations that every conforming engine performs identically. Same x, same noise ⇒
 * bit-identical q and e on any machine.
 *
 * Range: EXP_MIN = −126 (float32's smallest normal exponent; smaller tensors are quantized
 * with e = −126, losing resolution but staying unbiased) and EXP_MAX = 127 (float32's largest
 * exponent). A Float64Array with max|x| ≥ 2^128 is rejected with a RangeError, and NaN or
 * ±Infinity anywhere in the tensor with a TypeError naming the first bad index.
 */
/** A source of noise values on the 2^−24 grid in [0, 1), read in order (NoiseStream, or FieldStream). */
export interface NoiseSource {
  fillNoise(out: Float64Array, offset?: number, length?: number): Float64Array;
}

/** Bits per quantized value. */
export const QUANT_BITS = 8;
/** Smallest quantized value, −2^(QUANT_BITS−1). */
export const Q_MIN = -128;
/** Largest quantized value, 2^(QUANT_BITS−1) − 1. */
export const Q_MAX = 127;
/** Fractional bits below the exponent: the scale is 2^(FRAC_SHIFT − e), FRAC_SHIFT = QUANT_BITS − 2. */
export const FRAC_SHIFT = 6;
/** Smallest tensor exponent; tensors with max|x| < 2^EXP_MIN use EXP_MIN. */
export const EXP_MIN = -126;
/** Largest tensor exponent; max|x| ≥ 2^(EXP_MAX+1) is an error. */
export const EXP_MAX = 127;

/** Any tensor the quantizer accepts. */
export type FloatArray = Float32Array | Float64Array;

const bits = new DataView(new ArrayBuffer(8));

/**
 * Exactly 2^k as a double, built from its bit pattern, for integer k in [−1074, 1023]
 * (subnormal results included). Throws RangeError otherwise.
 */
export function pow2(k: number): number {
  if (!Number.isInteger(k) || k < -1074 || k > 1023) throw new RangeError(`pow2: exponent ${k} out of range`);
  if (k < -1022) return pow2(k + 64) * pow2(-64); // exact: the result is a representable power of two
  bits.setUint32(0, (k + 1023) << 20); // big-endian: sign 0, biased exponent, mantissa 0
  bits.setUint32(4, 0);
  return bits.getFloat64(0);
}

/**
 * The tensor exponent for m = max|x| ≥ 0: floor(log2 m) read from m's float64 bits, clamped
 * below at EXP_MIN, and 0 for m = 0. Throws RangeError for m ≥ 2^(EXP_MAX+1) and TypeError
 * for a negative or non-finite m.
 */
export function exponentOf(m: number): number {
  if (!(m >= 0) || m === Infinity) throw new TypeError(`exponentOf: need a finite m ≥ 0, got ${m}`);
  if (m === 0) return 0;
  bits.setFloat64(0, m);
  const biased = (bits.getUint32(0) >>> 20) & 0x7ff; // 0 for subnormals (m < 2^−1022)
  const e = biased === 0 ? EXP_MIN : biased - 1023;
  if (e > EXP_MAX) throw new RangeError(`quantize: max |x| = ${m} ≥ 2^${EXP_MAX + 1} is outside the quantizer's range`);
  return e < EXP_MIN ? EXP_MIN : e;
}

/**
 * max_i |x_i| (0 for an empty tensor). Throws TypeError naming the first index holding NaN or
 * ±Infinity. Branch-light: the scan accumulates z += x − x, which is 0 for finite x and NaN
 * otherwise, and only then looks for the culprit.
 */
export function maxAbs(x: FloatArray): number {
  let m = 0;
  let z = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const a = Math.abs(v);
    if (a > m) m = a;
    z += v - v;
  }
  if (z !== 0) {
    const bad = x.findIndex((v: number) => !Number.isFinite(v));
    throw new TypeError(`quantize: tensor contains a non-finite value (${x[bad]} at index ${bad})`);
  }
  return m;
}

/** The SWALP exponent of a tensor: exponentOf(maxAbs(x)). */
export function tensorExponent(x: FloatArray): number {
  return exponentOf(maxAbs(x));
}

function checkExponent(e: number): void {
  if (!Number.isInteger(e) || e < EXP_MIN || e > EXP_MAX) {
    throw new RangeError(`quantize: exponent must be an integer in [${EXP_MIN}, ${EXP_MAX}], got ${e}`);
  }
}

/**
 * q[i] = clamp(floor(x[i]·s + noise[j]), −128, 127) for i in [start, end), j = i + dj.
 * The clamps are ordinary branches: they are (almost) never taken, so they predict well.
 */
function quantizeRange(x: FloatArray, noise: FloatArray, dj: number, out: Int32Array, s: number, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    let q = Math.floor(x[i] * s + noise[i + dj]);
    if (q > Q_MAX) q = Q_MAX;
    else if (q < Q_MIN) q = Q_MIN;
    out[i] = q;
  }
}

/**
 * Quantizes x into out with pre-drawn noise (noise[i] ∈ [0, 1) pairs with x[i]); returns the
 * exponent used. By default e = tensorExponent(x); a caller that already knows a valid
 * exponent (an integer in [EXP_MIN, EXP_MAX], normally ≥ floor(log2 max|x|), e.g. the max over
 * a larger tensor streamed in chunks) may pass it to skip the scan — values that then exceed
 * the 8-bit range saturate. x, noise and out must have equal lengths.
 */
export function quantizeInto(x: FloatArray, noise: FloatArray, out: Int32Array, e: number = tensorExponent(x)): number {
  if (noise.length !== x.length || out.length !== x.length) {
    throw new RangeError(`quantizeInto: lengths differ (x ${x.length}, noise ${noise.length}, out ${out.length})`);
  }
  checkExponent(e);
  quantizeRange(x, noise, 0, out, pow2(FRAC_SHIFT - e), 0, x.length);
  return e;
}

/** Noise drawn per block by `quantize`; reused across calls (never escapes this module). */
const NOISE_BLOCK = 4096;
const noiseScratch = new Float64Array(NOISE_BLOCK);

/**
 * Quantizes x into out, drawing exactly x.length noise values from `noise` (in order, the
 * same values `noise.fillNoise(new Float64Array(x.length))` would give, so the result equals
 * quantizeInto with that array). Returns the exponent; `e` as in `quantizeInto`.
 */
export function quantize(x: FloatArray, noise: NoiseSource, out: Int32Array, e: number = tensorExponent(x)): number {
  if (out.length !== x.length) throw new RangeError(`quantize: lengths differ (x ${x.length}, out ${out.length})`);
  checkExponent(e);
  const s = pow2(FRAC_SHIFT - e);
  for (let start = 0; start < x.length; start += NOISE_BLOCK) {
    const end = Math.min(x.length, start + NOISE_BLOCK);
    noise.fillNoise(noiseScratch, 0, end - start);
    quantizeRange(x, noiseScratch, -start, out, s, start, end);
  }
  return e;
}

/**
 * out[i] = c[i] · 2^(exponentSum − 12), with exponentSum = eA + eB of the two quantized
 * operands whose (centred, reconstructed) integer product is c. The scaling is an exact
 * power of two; storing into a Float32Array is exact whenever the result is a normal float32
 * (|c| < 2^24), and otherwise rounds or overflows the IEEE way. Returns out.
 */
export function dequantize<T extends FloatArray>(c: Int32Array, exponentSum: number, out: T): T {
  if (out.length !== c.length) throw new RangeError(`dequantize: lengths differ (c ${c.length}, out ${out.length})`);
  if (!Number.isInteger(exponentSum) || Math.abs(exponentSum) > 2 * (EXP_MAX - EXP_MIN)) {
    throw new RangeError(`dequantize: exponentSum must be a small integer, got ${exponentSum}`);
  }
  const s = pow2(exponentSum - 2 * FRAC_SHIFT);
  if (out instanceof Float32Array) scaleF32(c, s, out);
  else scaleF64(c, s, out as Float64Array);
  return out;
}

function scaleF32(c: Int32Array, s: number, out: Float32Array): void {
  for (let i = 0; i < c.length; i++) out[i] = c[i] * s;
}

function scaleF64(c: Int32Array, s: number, out: Float64Array): void {
  for (let i = 0; i < c.length; i++) out[i] = c[i] * s;
}
