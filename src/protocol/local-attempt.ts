/**
 * Ops kept in the enclave (SecureExecutorOptions.localBelow): an op whose product is so small that
 * outsourcing it costs the enclave more than computing it — the protocol's fixed cost per op (framing,
 * three connections, a wait and a cold restart, ~1–4 ms here) against a product of well under a
 * millisecond — is computed here, exactly in the field, the way the quantized reference computes every op
 * (quantized-executor.ts), so a secure run stays bit-identical to it:
 *
 *   AQ, BQ = quantize(A), quantize(B)       the attempt's operand versions: exponents and noise streams
 *   C      = f(AQ, BQ) mod P                exact (Backend.…ModP)
 *   out    = centre(C) · 2^(eA + eB − 12)   returns max |C| for the caller's wrap-around guard
 *
 * No worker sees such an op, so nothing about it leaves the enclave.
 *
 * The decision depends on the op's size √(a·b·c) — the multiply-adds of a matrix product — which is the
 * same for all three passes of a layer (their operands and result are the same three tensors), so a
 * layer's ops are either all local or all outsourced within a step: the workers never miss an operand
 * version that a local op quantized (a grad-weight op reuses the forward's input version).
 */
import type { Backend } from '../backend/backend.js';
import { type BilinearOp, applyBilinearModP, bilinearSizes } from '../backend/bilinear.js';
import type { EnclaveKernels } from './enclave-kernels.js';
import type { Int32Buffers } from './managed-buffers.js';
import { quantizeOperandWith } from './op-quantize.js';
import type { OperandUse } from './operands.js';

/**
 * The command line's default limit (`goten train`, `demo`, `predict`, `serve`, `bench step`): 2^24 multiply-adds,
 * a conservative point below where computing a product in the enclave (exact mod-P GEMM ≈ 0.03–0.06 ns per
 * multiply-add with OpenBLAS or the built-in GEMM, plus quantizing both operands) costs it as much as the
 * protocol's fixed cost per outsourced op (≈ 1–1.5 ms of enclave CPU for framing, three connections, the
 * wait and the cold restart after it). It keeps the three classifier layers of VGG-11 at batch 32 (8.4 M
 * multiply-adds each) in the enclave and outsources every convolution (≥ 302 M); measured in
 * docs/benchmarks.md. The library's default (SecureExecutorOptions.localBelow) stays 0: every op outsourced.
 */
export const DEFAULT_LOCAL_BELOW = 2 ** 24;

/**
 * √(a·b·c): the multiply-adds of a matrix product, the same for every pass of a layer (the sizes are
 * multiplied in sorted order, so a product beyond 2^53 rounds alike whichever pass lists them).
 */
export function opSize(op: BilinearOp): number {
  const { a, b, c } = bilinearSizes(op);
  const [x, y, z] = [a, b, c].sort((p, q) => p - q);
  return Math.sqrt(x * y * z);
}

/** One attempt of a local op; returns max |C|. */
export function localAttempt(
  backend: Backend,
  kernels: EnclaveKernels,
  noiseKey: Uint8Array,
  layer: number,
  op: BilinearOp,
  uses: readonly [OperandUse, OperandUse],
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  bufs: Int32Buffers,
): number {
  const sz = bilinearSizes(op);
  const aq = bufs.int32('local.aq', sz.a);
  const bq = bufs.int32('local.bq', sz.b);
  const cq = bufs.int32('local.cq', sz.c);
  quantizeOperandWith(kernels, noiseKey, layer, uses[0], a, aq);
  quantizeOperandWith(kernels, noiseKey, layer, uses[1], b, bq);
  applyBilinearModP(backend, op, aq, bq, cq);
  return kernels.reconstructDequantize([cq], [], uses[0].exp + uses[1].exp - 12, c);
}
