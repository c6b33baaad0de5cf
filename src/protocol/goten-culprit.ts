/**
 * Who sent a wrong result, in the paper's protocol (docs/protocol.md, Verification). The enclave holds
 * every key of the attempt, so after a failed check of C it checks each worker's part on its own, with
 * the same projections (freivalds.ts) and a fresh R, against the worker's formula (worker-compute.ts):
 *
 *   w0:  C0' + CM0 == f(A0, F) + f(E, B0 − F)
 *   w1:  C1' + CM1 == f(A1, F) + f(E, B1)          (A1 = AQ − A0, B1 = BQ − B0)
 *   w2:  Z'  + CMZ == f(U, V)                       (online only; offline the third part is the
 *                                                    enclave's own Z̃, sealed while stored)
 *
 * with E = AQ − U, F = BQ − V and every mask redrawn from its stream. Projections are linear, so the
 * right side of a sum of products is the sum of their projections. Runs only after a failure.
 */
import { bilinearSizes } from '../backend/bilinear.js';
import { addModP, subModP } from '../field/share.js';
import type { EnclaveKernels } from './enclave-kernels.js';
import { maskStream } from './enclave-op.js';
import { type Culprit, PROJECTIONS, type ProductVerifier, sameElements } from './product-verifier.js';
import { projectProduct, projectResult, projectionSize } from './freivalds.js';
import type { OpAttempt } from './op-attempt.js';
import type { MaskKeyName, MaskKeys } from './op-streams.js';

/** Checks one worker's part against its formula: both protocols' culprit search (goten-culprit, lean-culprit). */
export interface PartCheck {
  /** A mask stream of the attempt, drawn again (n elements). */
  mask(name: MaskKeyName, n: number): Int32Array;
  /** Does part + mask project like Σ f(x, y) over `terms`? (A fresh R per call.) */
  holds(part: Int32Array, mask: Int32Array, terms: readonly (readonly [Int32Array, Int32Array])[]): boolean;
}

export function partCheck(v: ProductVerifier, kernels: EnclaveKernels, keys: MaskKeys, at: OpAttempt): PartCheck {
  const c = bilinearSizes(at.op).c;
  const n = projectionSize(at.op, PROJECTIONS);
  return {
    mask: (name, len) => kernels.fillCentred(maskStream(keys, name, at), new Int32Array(len)),
    holds(part, mask, terms) {
      const r = v.draw(at.op);
      const left = projectResult(v.backend, at.op, addModP(part, mask, new Int32Array(c)), r, PROJECTIONS, new Int32Array(n));
      const right = new Int32Array(n);
      for (const [x, y] of terms) addModP(right, projectProduct(v.backend, at.op, x, y, r, PROJECTIONS, new Int32Array(n)), right);
      return sameElements(left, right);
    },
  };
}

/**
 * The workers whose part fails its own check, as a sentence. `parts` are [C0', C1', third part] as
 * received; `online` says whether the third part came from worker 2.
 */
export function gotenCulprit(
  v: ProductVerifier,
  kernels: EnclaveKernels,
  keys: MaskKeys,
  at: OpAttempt,
  aq: Int32Array,
  bq: Int32Array,
  parts: readonly Int32Array[],
  online: boolean,
): Culprit {
  const sz = bilinearSizes(at.op);
  const pc = partCheck(v, kernels, keys, at);
  const [u, v0, a0, b0] = [pc.mask('U', sz.a), pc.mask('V', sz.b), pc.mask('A0', sz.a), pc.mask('B0', sz.b)];
  const e = subModP(aq, u, new Int32Array(sz.a));
  const f = subModP(bq, v0, new Int32Array(sz.b));
  const bad: string[] = [];
  const who: string[] = [];
  if (!pc.holds(parts[0], pc.mask('CM0', sz.c), [[a0, f], [e, subModP(b0, f, new Int32Array(sz.b))]])) (bad.push("worker w0's result C0'"), who.push('w0'));
  const a1 = subModP(aq, a0, new Int32Array(sz.a));
  const b1 = subModP(bq, b0, new Int32Array(sz.b));
  if (!pc.holds(parts[1], pc.mask('CM1', sz.c), [[a1, f], [e, b1]])) (bad.push("worker w1's result C1'"), who.push('w1'));
  if (online && !pc.holds(parts[2], pc.mask('CMZ', sz.c), [[u, v0]])) (bad.push("worker w2's result Z'"), who.push('w2'));
  if (bad.length === 0) return { text: 'each worker part passes on its own but their sum does not (the third part or the output masks)', parties: [] };
  return { text: `${bad.join(' and ')} failed verification`, parties: who };
}
