/**
 * The six bilinear ops a linear layer needs, named by (layer kind, pass), and
 * their mapping onto Backend kernels. The secure protocol, the quantized
 * reference and the plaintext engine all call these, so "f(A, B)" means the
 * same thing everywhere:
 *
 *   forward       C = f(W, X)    → Y
 *   grad-input    C = f(W, dY)   → dX
 *   grad-weight   C = f(dY, X)   → dW
 *
 * Linear layers: X is B×in, W is out×in, Y = X·Wᵀ is B×out.
 */
import type { Backend } from './backend.js';
import { type ConvGeometry, convSizes } from '../tensor/geometry.js';

export interface LinearGeometry {
  readonly batch: number;
  readonly inF: number;
  readonly outF: number;
}

export type BilinearPass = 'forward' | 'grad-input' | 'grad-weight';

/**
 * The tensors a linear layer's three ops multiply: its weight W, its input X and the gradient
 * dY of its output. Each appears in two of the ops (forward f(W, X), grad-input f(W, dY),
 * grad-weight f(dY, X)), so within one training step every tensor can be quantized (and, in
 * the secure protocol, masked and sent) once and used twice.
 */
export type OperandKind = 'W' | 'X' | 'dY';
export const OPERAND_KINDS: readonly OperandKind[] = ['W', 'X', 'dY'];

/** [kind of A, kind of B] of a pass. */
export function operandKinds(pass: BilinearPass): readonly [OperandKind, OperandKind] {
  return pass === 'forward' ? ['W', 'X'] : pass === 'grad-input' ? ['W', 'dY'] : ['dY', 'X'];
}

/**
 * Which operands of an op are, unchanged, the same tensor of the same kind as in an earlier op of
 * this layer since its last forward: a layer's backward reuses the forward's X in grad-weight, and
 * the forward's W and grad-weight's dY in grad-input. The caller vouches for "unchanged".
 */
export interface OperandReuse {
  readonly a: boolean;
  readonly b: boolean;
}

export type BilinearOp =
  | { readonly layer: 'linear'; readonly pass: BilinearPass; readonly geom: LinearGeometry }
  | { readonly layer: 'conv'; readonly pass: BilinearPass; readonly geom: ConvGeometry };

/** Element counts of A, B, C and the reduction length K of one output element. */
export interface BilinearSizes {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly k: number;
}

export function bilinearSizes(op: BilinearOp): BilinearSizes {
  if (op.layer === 'linear') {
    const { batch, inF, outF } = op.geom;
    const w = outF * inF;
    const x = batch * inF;
    const y = batch * outF;
    switch (op.pass) {
      case 'forward':
        return { a: w, b: x, c: y, k: inF };
      case 'grad-input':
        return { a: w, b: y, c: x, k: outF };
      case 'grad-weight':
        return { a: y, b: x, c: w, k: batch };
    }
  }
  const s = convSizes(op.geom);
  const g = op.geom;
  const outHW = s.output / (g.batch * g.outC);
  switch (op.pass) {
    case 'forward':
      return { a: s.weight, b: s.input, c: s.output, k: s.patch };
    case 'grad-input':
      // each dx element sums over at most outC·kH·kW terms
      return { a: s.weight, b: s.output, c: s.input, k: g.outC * g.kH * g.kW };
    case 'grad-weight':
      return { a: s.output, b: s.input, c: s.weight, k: g.batch * outHW };
  }
}

/** C = f(A, B) exactly mod P on centred Int32 operands. */
export function applyBilinearModP(be: Backend, op: BilinearOp, a: Int32Array, b: Int32Array, c: Int32Array): void {
  if (op.layer === 'linear') {
    const { batch, inF, outF } = op.geom;
    switch (op.pass) {
      case 'forward': // Y[B×out] = X[B×in] · W[out×in]ᵀ
        return be.gemmModP({ m: batch, k: inF, n: outF, transB: true }, b, a, c);
      case 'grad-input': // dX[B×in] = dY[B×out] · W[out×in]
        return be.gemmModP({ m: batch, k: outF, n: inF }, b, a, c);
      case 'grad-weight': // dW[out×in] = dY[B×out]ᵀ · X[B×in]
        return be.gemmModP({ m: outF, k: batch, n: inF, transA: true }, a, b, c);
    }
  }
  switch (op.pass) {
    case 'forward':
      return be.conv2dModP(op.geom, b, a, c);
    case 'grad-input':
      return be.conv2dGradInputModP(op.geom, b, a, c);
    case 'grad-weight':
      return be.conv2dGradWeightModP(op.geom, a, b, c);
  }
}

/** C = f(A, B) in float32. */
export function applyBilinearF32(be: Backend, op: BilinearOp, a: Float32Array, b: Float32Array, c: Float32Array): void {
  if (op.layer === 'linear') {
    const { batch, inF, outF } = op.geom;
    switch (op.pass) {
      case 'forward':
        return be.gemmF32({ m: batch, k: inF, n: outF, transB: true }, b, a, c);
      case 'grad-input':
        return be.gemmF32({ m: batch, k: outF, n: inF }, b, a, c);
      case 'grad-weight':
        return be.gemmF32({ m: outF, k: batch, n: inF, transA: true }, a, b, c);
    }
  }
  switch (op.pass) {
    case 'forward':
      return be.conv2dF32(op.geom, b, a, c);
    case 'grad-input':
      return be.conv2dGradInputF32(op.geom, b, a, c);
    case 'grad-weight':
      return be.conv2dGradWeightF32(op.geom, a, b, c);
  }
}
