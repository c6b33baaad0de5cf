/**
 * The kernel interface. Every implementation (js reference, native OpenBLAS
 * addon, later CUDA) runs the one conformance suite in test/backend/.
 *
 * Conventions:
 * - Row-major dense arrays; images NCHW; conv weights O×C×kH×kW.
 * - Kernels write into caller-provided outputs (no allocation of results).
 * - `…ModP` kernels take centred Int32 operands (|v| ≤ HALF) and return the
 *   exact centred result mod P for any reduction length K: float64 products are
 *   accumulated in chunks of at most MAX_EXACT_K = 8192 terms with a mod-P
 *   reduction between chunks.
 */
import type { ConvGeometry } from '../tensor/geometry.js';

/** C[m×n] = op(A)·op(B); op(A) is m×k (stored k×m when transA), op(B) is k×n (stored n×k when transB). */
export interface GemmShape {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transA?: boolean;
  readonly transB?: boolean;
}

export interface Backend {
  /** Short name used in benchmarks and on the command line (`js`, `native`). */
  readonly name: string;

  /** C = op(A)·op(B) in float32; with `accumulate`, C += op(A)·op(B). */
  gemmF32(s: GemmShape, a: Float32Array, b: Float32Array, c: Float32Array, accumulate?: boolean): void;
  /** C = op(A)·op(B) mod P, exact, centred. */
  gemmModP(s: GemmShape, a: Int32Array, b: Int32Array, c: Int32Array): void;

  /** y[N,O,OH,OW] = Σ_{c,i,j} w[O,c,i,j] · x[N,c,OH·s+i−p, OW·s+j−p] (zero padding), float32. */
  conv2dF32(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array): void;
  /** dx = transposed conv of dy with w (the input gradient of conv2dF32), float32. */
  conv2dGradInputF32(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  /** dw[O,c,i,j] = Σ_{n,oh,ow} dy[n,O,oh,ow] · x[n,c,oh·s+i−p, ow·s+j−p], float32. */
  conv2dGradWeightF32(g: ConvGeometry, dy: Float32Array, x: Float32Array, dw: Float32Array): void;

  /** conv2dF32 on centred Int32 operands, exact mod P. */
  conv2dModP(g: ConvGeometry, x: Int32Array, w: Int32Array, y: Int32Array): void;
  /** conv2dGradInputF32 on centred Int32 operands, exact mod P. */
  conv2dGradInputModP(g: ConvGeometry, dy: Int32Array, w: Int32Array, dx: Int32Array): void;
  /** conv2dGradWeightF32 on centred Int32 operands, exact mod P (K = N·OH·OW may exceed 8192). */
  conv2dGradWeightModP(g: ConvGeometry, dy: Int32Array, x: Int32Array, dw: Int32Array): void;
}

/** Thrown when a backend is asked for but cannot run here (e.g. the addon did not build). */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    reason: string,
  ) {
    super(`backend '${backend}' is unavailable: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}
