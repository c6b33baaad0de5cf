/**
 * c += f(a, b) for `RunOptions.accumulate` (a layer's weight gradient), shared by every executor.
 * When c is all zeros — the gradient of a fresh step, after `zeroGrad` or a zero-filled lease —
 * accumulating is writing: the op writes c itself, with no scratch buffer and no extra pass over it,
 * and a retry after a detected overflow simply writes again. Otherwise the op writes a scratch buffer
 * and c += scratch follows. Element by element both give fl32(c + d) (fl32(0 + d) = d; the quantizing
 * executors never produce −0, so not even the sign of a zero differs).
 */
import { nnKernels } from './kernels/index.js';

export interface AccumulationTarget {
  /** Where the op writes its result. */
  readonly out: Float32Array;
  /** After the op: adds `out` into c when it is a scratch buffer. */
  finish(): void;
}

/** The target of an op into c; `scratch(n)` lends a buffer of n floats (only taken when c is not zero). */
export function accumulationTarget(c: Float32Array, accumulate: boolean | undefined, scratch: (n: number) => Float32Array): AccumulationTarget {
  const k = nnKernels();
  if (!accumulate || k.isZero(c)) return { out: c, finish: () => {} };
  const out = scratch(c.length);
  return { out, finish: () => k.accumulate(c, out) };
}
