/**
 * The check of one attempt's result (product-verifier.ts), as the attempt sees it (attempt.ts
 * AttemptCheck): AQ, BQ come from the attempt's own quantization sweep where it has one (fresh lean
 * versions; every goten attempt), otherwise the operand version is quantized again (op-quantize.ts: the
 * same values); C comes back exactly from the float output. A wrong C throws VerificationError naming
 * the op and the culprit:
 *
 *   lean   the aggregate S = C0' + C1' + Z' from worker 1 (covering w0, w1 and, online, w2): the enclave
 *          receives only the sum, so it cannot tell which worker's term is wrong
 *   goten  each part checked on its own (goten-culprit.ts)
 */
import { bilinearSizes } from '../backend/bilinear.js';
import type { AttemptCheck } from './attempt.js';
import type { EnclaveKernels } from './enclave-kernels.js';
import type { Int32Buffers } from './managed-buffers.js';
import { gotenCulprit } from './goten-culprit.js';
import { noiseStreamId } from './op-quantize.js';
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

/** The lean protocol's culprit sentence. */
export function leanCulprit(online: boolean): string {
  return `the aggregated result S from worker 1 (covering w0, w1${online ? ' and w2' : ''}) failed verification`;
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
    ctx.kernels.quantizeMaskPack(x, use.exp, { key: ctx.noiseKey, id: noiseStreamId(at.layer, use) }, null, null, out, null);
    return out;
  };
  return {
    q,
    bufs,
    check(c, uses, parts) {
      const v = ctx.verifier;
      const t0 = process.cpuUsage(); // synchronous on this thread: the process's CPU time is the check's
      try {
        const ci = bufs.int32('v.c', bilinearSizes(at.op).c);
        if (!v.resultIntegers(c, uses[0].exp + uses[1].exp - 12, ci)) return;
        const aq = quantized(0, uses[0], a);
        const bq = quantized(1, uses[1], b);
        if (v.passes(at.op, aq, bq, ci, v.draw(at.op), bufs)) return;
        const culprit = parts && ctx.protocol === 'goten' ? gotenCulprit(v, ctx.kernels, ctx.keys, at, aq, bq, parts, ctx.online) : leanCulprit(ctx.online);
        throw new VerificationError(layer, at.op.pass, culprit);
      } finally {
        const d = process.cpuUsage(t0);
        v.record((d.user + d.system) / 1000);
      }
    },
  };
}
