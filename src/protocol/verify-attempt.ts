/**
 * The check of one attempt's result (product-verifier.ts), as the attempt sees it (attempt.ts
 * AttemptCheck): AQ, BQ come from the attempt's own quantization sweep where it has one (fresh lean
 * versions; every goten attempt), otherwise the operand version is quantized again (op-quantize.ts: the
 * same values); C comes back exactly from the float output. A wrong C throws VerificationError naming
 * the op and the culprit:
 *
 *   lean   each worker is asked for its own part of the attempt, checked on its own (lean-culprit.ts)
 *   goten  each part, received anyway, checked on its own (goten-culprit.ts)
 */
import { bilinearSizes } from '../backend/bilinear.js';
import type { AttemptCheck } from './attempt.js';
import type { EnclaveKernels } from './enclave-kernels.js';
import type { Int32Buffers } from './managed-buffers.js';
import { gotenCulprit, partCheck } from './goten-culprit.js';
import type { LeanAttempt } from './lean-op.js';
import { leanCulprit } from './lean-culprit.js';
import { quantizeOperandWith } from './op-quantize.js';
import type { OpAttempt } from './op-attempt.js';
import type { MaskKeys } from './op-streams.js';
import type { OperandUse } from './operands.js';
import { type ProductVerifier, VerificationError } from './product-verifier.js';
import type { ProtocolName } from './variant.js';

export interface CheckContext {
  readonly verifier: ProductVerifier;
  readonly kernels: EnclaveKernels;
  readonly keys: MaskKeys;
  readonly noiseKey: Uint8Array;
  readonly protocol: ProtocolName;
  /** Whether worker 2 computes the third part (online) or the enclave (offline). */
  readonly online: boolean;
}

/**
 * A check for attempt `at` of the layer named `layer`, on the float operands a, b. Its buffers (C as
 * integers, operands quantized again, projections; 'v.…' names) come from `bufs`, valid until the attempt
 * ends: leases on the enclave's budget in managed mode, reused by name otherwise — never fresh pages per check.
 */
export function attemptCheck(ctx: CheckContext, at: OpAttempt, layer: string, a: Float32Array, b: Float32Array, bufs: Int32Buffers): AttemptCheck {
  const q: [Int32Array | null, Int32Array | null] = [null, null];
  const quantized = (side: 0 | 1, use: OperandUse, x: Float32Array): Int32Array => {
    const have = q[side];
    if (have) return have;
    const out = bufs.int32(side === 0 ? 'v.aq' : 'v.bq', x.length);
    quantizeOperandWith(ctx.kernels, ctx.noiseKey, at.layer, use, x, out);
    return out;
  };
  return {
    q,
    bufs,
    async check(c, uses, evidence) {
      const v = ctx.verifier;
      const t0 = process.cpuUsage(); // synchronous on this thread: the process's CPU time is the check's
      let failed: [Int32Array, Int32Array] | null = null;
      try {
        const ci = bufs.int32('v.c', bilinearSizes(at.op).c);
        if (!v.resultIntegers(c, uses[0].exp + uses[1].exp - 12, ci)) return;
        const aq = quantized(0, uses[0], a);
        const bq = quantized(1, uses[1], b);
        if (v.passes(at.op, aq, bq, ci, v.draw(at.op), bufs)) return;
        failed = [aq, bq];
      } finally {
        const d = process.cpuUsage(t0);
        v.record((d.user + d.system) / 1000);
      }
      // a wrong result: find who sent it (its own time, only after a failure)
      const [aq, bq] = failed;
      const culprit =
        'goten' in evidence
          ? gotenCulprit(v, ctx.kernels, ctx.keys, at, aq, bq, evidence.goten, ctx.online)
          : leanCulprit(partCheck(v, ctx.kernels, ctx.keys, at), ctx.kernels, ctx.keys, at as LeanAttempt, aq, bq, await evidence.lean(), ctx.online);
      throw new VerificationError(layer, at.op.pass, culprit);
    },
  };
}
