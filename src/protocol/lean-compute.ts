/**
 * What each untrusted worker computes in the lean protocol (docs/protocol.md). All
 * values are centred Int32 mod P; f is the op's bilinear map (backend/bilinear.ts).
 * For operand A (version a) and B (version b), with the streams of lean-op.ts:
 *
 *   enclave  U = S0(a) + D(a),  V = S0(b) + D(b);   E = AQ − U,  F = BQ − V   (sent once per version)
 *   worker 0 (keys S0, CM0; holds E, F):
 *            A0 = S0(a), B0 = S0(b);                 C0' = f(A0, F) + f(E, B0 − F) − CM0   → worker 1
 *   worker 2 (keys S0, D, CM0, CM1, T; receives only the header):
 *            Z' = f(U, V) − (T − CM0 − CM1)                                              → worker 1
 *   worker 1 (keys D, CM1; holds E, F):
 *            A1 = E + D(a) = AQ − A0,  B1 = F + D(b) = BQ − B0
 *            S  = C0' + f(A1, F) + f(E, B1) − CM1 + Z'                                   → enclave
 *   enclave  C = centre(S + T) = f(AQ, BQ) mod P
 *
 * Sum: C0' + C1' = f(A0,F) + f(E,B0) − f(E,F) + f(A1,F) + f(E,B1) − CM0 − CM1
 *               = f(AQ, F) + f(E, BQ) − f(E, F) − CM0 − CM1 = f(AQ, BQ) − f(U, V) − CM0 − CM1,
 * so S + T = f(AQ, BQ). Offline (no worker 2), S = C0' + C1' and the enclave adds its own
 * Z̃ = f(U, V) + CM0 + CM1 (offline-masks.ts).
 */
import type { Backend } from '../backend/backend.js';
import { applyBilinearModP, bilinearSizes } from '../backend/bilinear.js';
import { addSubModP } from '../field/combine.js';
import { addModP, subModP } from '../field/share.js';
import type { NamedBuffers } from '../backend/named-buffers.js';
import type { EnclaveKernels } from './enclave-kernels.js';
import { maskStream } from './enclave-op.js';
import { type LeanAttempt, operandStream } from './lean-op.js';
import type { MaskKeys } from './op-streams.js';

export type LeanWorker0Keys = Pick<MaskKeys, 'S0' | 'CM0'>;
export type LeanWorker1Keys = Pick<MaskKeys, 'D' | 'CM1'>;
export type LeanWorker2Keys = Pick<MaskKeys, 'S0' | 'D' | 'CM0' | 'CM1' | 'T'>;

/** C0' = f(A0, F) + f(E, B0 − F) − CM0, written into out. */
export function computeLean0(
  be: Backend,
  k: EnclaveKernels,
  keys: LeanWorker0Keys,
  at: LeanAttempt,
  e: Int32Array,
  f: Int32Array,
  out: Int32Array,
  pool: NamedBuffers,
): void {
  const sz = bilinearSizes(at.op);
  const [ra, rb] = at.operands;
  const a0 = k.fillCentred(operandStream(keys.S0, at.layer, ra), pool.int32('l.a0', sz.a));
  const b0 = k.fillCentred(operandStream(keys.S0, at.layer, rb), pool.int32('l.b0', sz.b));
  const t = subModP(b0, f, b0);
  const p1 = pool.int32('l.p1', sz.c);
  applyBilinearModP(be, at.op, a0, f, p1);
  applyBilinearModP(be, at.op, e, t, out);
  const cm = k.fillCentred(maskStream(keys, 'CM0', at), pool.int32('l.cm', sz.c));
  addSubModP(p1, out, cm, out);
}

/** C1' = f(E + D(a), F) + f(E, F + D(b)) − CM1, written into out (the caller adds C0' and Z'). */
export function computeLean1(
  be: Backend,
  k: EnclaveKernels,
  keys: LeanWorker1Keys,
  at: LeanAttempt,
  e: Int32Array,
  f: Int32Array,
  out: Int32Array,
  pool: NamedBuffers,
): void {
  const sz = bilinearSizes(at.op);
  const [ra, rb] = at.operands;
  const a1 = pool.int32('l.a1', sz.a);
  addModP(e, k.fillCentred(operandStream(keys.D, at.layer, ra), a1), a1);
  const b1 = pool.int32('l.b1', sz.b);
  addModP(f, k.fillCentred(operandStream(keys.D, at.layer, rb), b1), b1);
  const p1 = pool.int32('l.p1', sz.c);
  applyBilinearModP(be, at.op, a1, f, p1);
  applyBilinearModP(be, at.op, e, b1, out);
  const cm = k.fillCentred(maskStream(keys, 'CM1', at), pool.int32('l.cm', sz.c));
  addSubModP(p1, out, cm, out);
}

/** Z' = f(U, V) − T + CM0 + CM1 with U = S0(a) + D(a), V = S0(b) + D(b), written into out. */
export function computeLean2(be: Backend, k: EnclaveKernels, keys: LeanWorker2Keys, at: LeanAttempt, out: Int32Array, pool: NamedBuffers): void {
  const sz = bilinearSizes(at.op);
  const [ra, rb] = at.operands;
  const u = leanMask(k, keys, at.layer, ra, sz.a, pool, 'l.u');
  const v = leanMask(k, keys, at.layer, rb, sz.b, pool, 'l.v');
  applyBilinearModP(be, at.op, u, v, out);
  const t = k.fillCentred(maskStream(keys, 'T', at), pool.int32('l.t', sz.c));
  const m0 = k.fillCentred(maskStream(keys, 'CM0', at), pool.int32('l.m0', sz.c));
  const m1 = k.fillCentred(maskStream(keys, 'CM1', at), pool.int32('l.m1', sz.c));
  addSubModP(out, addModP(m0, m1, m0), t, out);
}

/** U(X) = S0(X) + D(X): the mask of one operand version (n elements) in buffer `name`. */
export function leanMask(
  k: EnclaveKernels,
  keys: Pick<MaskKeys, 'S0' | 'D'>,
  layer: number,
  r: LeanAttempt['operands'][number],
  n: number,
  pool: { int32(name: string, n: number): Int32Array },
  name: string,
): Int32Array {
  const s0 = k.fillCentred(operandStream(keys.S0, layer, r), pool.int32(name, n));
  const d = k.fillCentred(operandStream(keys.D, layer, r), pool.int32(`${name}.d`, n));
  return addModP(s0, d, s0);
}
