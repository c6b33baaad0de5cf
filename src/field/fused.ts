/**
 * Fused single-sweep enclave kernels (DESIGN §7: the enclave's cost is its number of passes
 * over memory). Each is exactly equal to the composition of the unfused ops it replaces:
 *
 *   quantizeShare   = quantizeInto, then outs[k] = subModP(q, masks[k]) for every k
 *   sumDequantize   = sumModP, then countBeyond, then dequantize
 *
 * so the plaintext quantized reference and the secure protocol can use either form and stay
 * bit-identical.
 */
import { HALF as HALF_, P as P_ } from './prime.js';
import { EXP_MAX, EXP_MIN, FRAC_SHIFT, Q_MAX, Q_MIN, pow2, tensorExponent, type FloatArray } from './quantize.js';

// Module-local copies: under tsx, imported bindings compile to getters that are ~20× slower
// inside hot loops than a local const.
const P = P_;
const HALF = HALF_;
const QMIN = Q_MIN;
const QMAX = Q_MAX;

/**
 * One sweep: q_i = clamp(floor(x_i·2^(6−e) + noise_i), −128, 127) (as `quantizeInto`), then for
 * every k, outs[k][i] = q_i − masks[k][i] mod P (centred). `q` (optional) also receives q.
 * In the protocol, masks = [U, A0] and outs = [E, A1] give E = AQ − U and A1 = AQ − A0.
 * Returns the exponent used (default tensorExponent(x)). All arrays must have x's length;
 * outputs must not alias x or noise (they may alias their own mask).
 */
export function quantizeShare(
  x: FloatArray,
  noise: FloatArray,
  masks: readonly Int32Array[],
  outs: readonly Int32Array[],
  e: number = tensorExponent(x),
  q: Int32Array | null = null,
): number {
  const n = x.length;
  if (masks.length !== outs.length) throw new RangeError('quantizeShare: one output per mask');
  for (const a of [noise, ...masks, ...outs, ...(q ? [q] : [])]) {
    if (a.length !== n) throw new RangeError(`quantizeShare: length ${a.length}, expected ${n}`);
  }
  if (!Number.isInteger(e) || e < EXP_MIN || e > EXP_MAX) throw new RangeError(`quantizeShare: bad exponent ${e}`);
  const s = pow2(FRAC_SHIFT - e);
  const m0 = masks[0];
  const o0 = outs[0];
  const m1 = masks[1];
  const o1 = outs[1];
  if (masks.length === 2 && q === null) {
    // The protocol's case, kept monomorphic and free of per-element inner loops.
    for (let i = 0; i < n; i++) {
      let v = Math.floor(x[i] * s + noise[i]);
      if (v > QMAX) v = QMAX;
      else if (v < QMIN) v = QMIN;
      o0[i] = centre(v - m0[i]);
      o1[i] = centre(v - m1[i]);
    }
    return e;
  }
  for (let i = 0; i < n; i++) {
    let v = Math.floor(x[i] * s + noise[i]);
    if (v > QMAX) v = QMAX;
    else if (v < QMIN) v = QMIN;
    if (q !== null) q[i] = v;
    for (let k = 0; k < masks.length; k++) outs[k][i] = centre(v - masks[k][i]);
  }
  return e;
}

/** Centred representative of d for |d| ≤ HALF + 128 (a quantized value minus a centred mask). */
function centre(d: number): number {
  d -= P & ((HALF - d) >> 31);
  d += P & ((d + HALF) >> 31);
  return d;
}

/** Elements per block of `sumDequantize`'s integer scratch. */
const BLOCK = 2048;
const scratch = new Int32Array(BLOCK);

/**
 * One sweep per block: c = Σ_k inputs[k] mod P (centred), out = c · 2^(exponentSum − 12), and
 * the number of elements with |c| > bound is returned (the wrap-around guard band; with the
 * default bound = HALF nothing is counted). In the protocol, inputs = [C0', C1', Z', CM0,
 * CM1, CMZ]. `out` is Float32Array or Float64Array.
 */
export function sumDequantize(inputs: readonly Int32Array[], exponentSum: number, out: FloatArray, bound: number = HALF): number {
  const n = out.length;
  if (inputs.length === 0) throw new RangeError('sumDequantize: needs at least one input');
  for (const a of inputs) if (a.length !== n) throw new RangeError(`sumDequantize: length ${a.length}, expected ${n}`);
  if (!Number.isInteger(bound) || bound < 0 || bound > HALF) throw new RangeError(`sumDequantize: bad bound ${bound}`);
  if (!Number.isInteger(exponentSum) || Math.abs(exponentSum) > 2 * (EXP_MAX - EXP_MIN)) {
    throw new RangeError(`sumDequantize: exponentSum must be a small integer, got ${exponentSum}`);
  }
  const scale = pow2(exponentSum - 2 * FRAC_SHIFT);
  let beyond = 0;
  for (let start = 0; start < n; start += BLOCK) {
    const m = Math.min(BLOCK, n - start);
    scratch.set(inputs[0].subarray(start, start + m));
    for (let k = 1; k < inputs.length; k++) addBlock(inputs[k], start, m);
    beyond += out instanceof Float32Array ? emitF32(out, start, m, scale, bound) : emitF64(out as Float64Array, start, m, scale, bound);
  }
  return beyond;
}

function addBlock(a: Int32Array, start: number, m: number): void {
  for (let i = 0; i < m; i++) {
    let s = scratch[i] + a[start + i];
    s -= P & ((HALF - s) >> 31);
    s += P & ((s + HALF) >> 31);
    scratch[i] = s;
  }
}

function emitF32(out: Float32Array, start: number, m: number, scale: number, bound: number): number {
  let neg = 0;
  for (let i = 0; i < m; i++) {
    const c = scratch[i];
    neg += ((bound - c) >> 31) + ((c + bound) >> 31);
    out[start + i] = c * scale;
  }
  return 0 - neg;
}

function emitF64(out: Float64Array, start: number, m: number, scale: number, bound: number): number {
  let neg = 0;
  for (let i = 0; i < m; i++) {
    const c = scratch[i];
    neg += ((bound - c) >> 31) + ((c + bound) >> 31);
    out[start + i] = c * scale;
  }
  return 0 - neg;
}
