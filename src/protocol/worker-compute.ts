/**
 * What each untrusted worker computes for one op attempt (docs/protocol.md, the steps of one op: step 5).
 * All values are centred Int32 mod P; f is the op's bilinear map
 * (backend/bilinear.ts); stream X means FieldStream(key X, id(layer, pass, attempt)).
 *
 *   worker 0 (holds keys A0, B0, CM0; receives E, F):
 *       A0, B0, CM0 ← streams;   C0' = f(A0, F) + f(E, B0 − F) − CM0
 *   worker 1 (holds key CM1; receives A1, B1, E, F):
 *       CM1 ← stream;            C1' = f(A1, F) + f(E, B1) − CM1
 *   worker 2 (holds keys U, V, CMZ; receives nothing but the op header):
 *       U, V, CMZ ← streams;     Z'  = f(U, V) − CMZ
 *
 * Sum: C0' + C1' + Z' = f(A0,F) + f(E,B0) − f(E,F) + f(A1,F) + f(E,B1) + f(U,V) − ΣCM
 *                     = f(AQ, F) + f(E, BQ) − f(E, F) + f(U, V) − ΣCM = f(AQ, BQ) − ΣCM.
 * Each worker's view is one-time padded: worker 0 sees A0, B0 (pure PRG) and E, F
 * (padded by U, V); worker 1 sees A1, B1 (padded by A0, B0) and E, F; worker 2
 * sees only PRG output.
 */
import type { Backend } from '../backend/backend.js';
import { type BilinearOp, applyBilinearModP, bilinearSizes } from '../backend/bilinear.js';
import { addSubModP } from '../field/combine.js';
import { FieldStream } from '../field/prg.js';
import { subModP } from '../field/share.js';
import type { NamedBuffers } from '../backend/named-buffers.js';
import type { OpAttempt } from './op-attempt.js';
import { SLOT_MAIN, opStreamId } from './op-streams.js';


/** Fills `out` from stream (key, id of this attempt). */
export function drawMask(key: Uint8Array, at: OpAttempt, out: Int32Array): Int32Array {
  return FieldStream.open(key, opStreamId(at.layer, at.op.pass, at.attempt, SLOT_MAIN)).fillCentred(out);
}

export interface Worker0Keys {
  readonly A0: Uint8Array;
  readonly B0: Uint8Array;
  readonly CM0: Uint8Array;
}
export interface Worker1Keys {
  readonly CM1: Uint8Array;
}
export interface Worker2Keys {
  readonly U: Uint8Array;
  readonly V: Uint8Array;
  readonly CMZ: Uint8Array;
}

/** C0' = f(A0, F) + f(E, B0 − F) − CM0, written into out. */
export function computeWorker0(be: Backend, keys: Worker0Keys, at: OpAttempt, e: Int32Array, f: Int32Array, out: Int32Array, pool: NamedBuffers): void {
  const sz = bilinearSizes(at.op);
  const a0 = drawMask(keys.A0, at, pool.int32('w.a0', sz.a));
  const b0 = drawMask(keys.B0, at, pool.int32('w.b0', sz.b));
  const cm = drawMask(keys.CM0, at, pool.int32('w.cm', sz.c));
  const t = subModP(b0, f, pool.int32('w.t', sz.b));
  const p1 = pool.int32('w.p1', sz.c);
  applyBilinearModP(be, at.op, a0, f, p1);
  applyBilinearModP(be, at.op, e, t, out);
  addSubModP(p1, out, cm, out);
}

/** C1' = f(A1, F) + f(E, B1) − CM1, written into out. */
export function computeWorker1(
  be: Backend,
  keys: Worker1Keys,
  at: OpAttempt,
  a1: Int32Array,
  b1: Int32Array,
  e: Int32Array,
  f: Int32Array,
  out: Int32Array,
  pool: NamedBuffers,
): void {
  const sz = bilinearSizes(at.op);
  const cm = drawMask(keys.CM1, at, pool.int32('w.cm', sz.c));
  const p1 = pool.int32('w.p1', sz.c);
  applyBilinearModP(be, at.op, a1, f, p1);
  applyBilinearModP(be, at.op, e, b1, out);
  addSubModP(p1, out, cm, out);
}

/** Z' = f(U, V) − CMZ, written into out. */
export function computeWorker2(be: Backend, keys: Worker2Keys, at: OpAttempt, out: Int32Array, pool: NamedBuffers): void {
  const sz = bilinearSizes(at.op);
  const u = drawMask(keys.U, at, pool.int32('w.u', sz.a));
  const v = drawMask(keys.V, at, pool.int32('w.v', sz.b));
  const cm = drawMask(keys.CMZ, at, pool.int32('w.cm', sz.c));
  applyBilinearModP(be, at.op, u, v, out);
  subModP(out, cm, out);
}
