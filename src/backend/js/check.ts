/**
 * Argument validation shared by the js kernels. Every public kernel checks its
 * shape and that each buffer has EXACTLY the length the shape implies (pass a
 * `subarray` to use part of a larger pooled buffer), and throws a RangeError
 * naming the kernel, the buffer, the expected length and the formula.
 */
import { HALF } from '../../field/prime.js';
import type { GemmShape } from '../backend.js';

/** Throws unless v is a non-negative safe integer. */
export function checkDim(kernel: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${kernel}: ${name} must be a non-negative integer, got ${v}`);
  }
}

/** Throws unless buf.length === expected. */
export function checkLength(
  kernel: string,
  name: string,
  buf: { readonly length: number },
  expected: number,
  formula: string,
): void {
  if (buf.length !== expected) {
    throw new RangeError(`${kernel}: buffer '${name}' has length ${buf.length}, expected ${formula} = ${expected}`);
  }
}

/** Validates a GEMM shape and the lengths of A (m·k), B (k·n) and C (m·n). */
export function checkGemm(
  kernel: string,
  s: GemmShape,
  a: { readonly length: number },
  b: { readonly length: number },
  c: { readonly length: number },
): void {
  checkDim(kernel, 'm', s.m);
  checkDim(kernel, 'k', s.k);
  checkDim(kernel, 'n', s.n);
  checkLength(kernel, 'a', a, s.m * s.k, `m·k (${s.m}·${s.k})`);
  checkLength(kernel, 'b', b, s.k * s.n, `k·n (${s.k}·${s.n})`);
  checkLength(kernel, 'c', c, s.m * s.n, `m·n (${s.m}·${s.n})`);
}

/**
 * Throws unless every element is a centred field element, |v| ≤ HALF: the
 * exactness argument (K·HALF² < 2^53 per chunk) needs it. Branchless: the sign
 * bit of (HALF − v) | (v + HALF) is set iff v is out of range.
 */
export function checkCentred(kernel: string, name: string, v: Int32Array): void {
  let bad = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    bad |= (HALF - x) | (x + HALF);
  }
  if (bad < 0) {
    let i = 0;
    while (i < v.length && v[i] >= -HALF && v[i] <= HALF) i++;
    throw new RangeError(`${kernel}: '${name}'[${i}] = ${v[i]} is not a centred field element (|v| ≤ ${HALF})`);
  }
}

type View = { readonly buffer: ArrayBufferLike; readonly byteOffset: number; readonly byteLength: number };

/**
 * Throws if the output view shares memory with an input view: the kernels read
 * inputs after they start writing outputs, so aliasing would silently corrupt
 * results. Empty views never overlap.
 */
export function checkNoOverlap(kernel: string, outName: string, out: View, inputs: ReadonlyArray<readonly [string, View]>): void {
  for (const [name, v] of inputs) {
    if (v.buffer !== out.buffer || v.byteLength === 0 || out.byteLength === 0) continue;
    if (out.byteOffset < v.byteOffset + v.byteLength && v.byteOffset < out.byteOffset + out.byteLength) {
      throw new RangeError(`${kernel}: output '${outName}' must not share memory with input '${name}'`);
    }
  }
}
