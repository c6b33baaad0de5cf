/**
 * THE backend conformance suite. Every Backend implementation runs it, from
 * its own runner file (test/backend/<name>*.test.ts):
 *
 *   runBackendConformance('js', createJsBackend);
 *
 * What a conforming backend must do (beyond the doc comments in backend.ts):
 * - gemmF32: results within f32Tolerance (conformance-check.ts) of a float64
 *   reference, for every transA/transB combination, with and without
 *   accumulate; without accumulate, C's previous contents (even NaN) are
 *   ignored.
 * - gemmModP and every …ModP conv kernel: bit-exact centred residues, compared
 *   with exact integer references (BigInt or exact Number arithmetic), also at
 *   worst-case magnitudes (all operands ±HALF) with reductions of 8192, 8193
 *   and 20 000 terms, and conv reductions (C·kH·kW, O, N·OH·OW) above 8192.
 * - conv kernels: NCHW, any kernel size, stride and padding, against direct
 *   nested loops that share no code with im2col; adjoint identities hold.
 * - degenerate GEMMs: m = 0 or n = 0 is a no-op; k = 0 yields C = 0 (or leaves C
 *   unchanged when accumulating).
 * - argument checks: every buffer must have EXACTLY the length its shape
 *   implies; otherwise the kernel throws an Error whose message contains
 *   "length" and the buffer's name, and writes nothing. Invalid shapes and
 *   geometries throw.
 * - mod-P operands must be centred (|v| ≤ HALF) and an output must not share
 *   memory with an input: both throw (and write nothing).
 * - typed-array views: operands and outputs may be subarrays at any
 *   byteOffset of a larger buffer; nothing outside the output view is written.
 * - repeated calls with interleaved shapes (scratch reuse) give identical results.
 */
import { describe } from 'node:test';
import type { Backend } from '../../src/backend/backend.js';
import { contractConformance } from './conformance-contract.js';
import { convConformance } from './conformance-conv.js';
import { gemmConformance } from './conformance-gemm.js';

export function runBackendConformance(name: string, make: () => Backend): void {
  let instance: Backend | undefined;
  const be = (): Backend => (instance ??= make());
  describe(`backend conformance: ${name}`, () => {
    gemmConformance(be);
    convConformance(be);
    contractConformance(be);
  });
}
