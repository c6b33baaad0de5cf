/**
 * The enclave's per-attempt work before the requests go out (docs/protocol.md, the
 * steps of one op: 1–3), independent of how the tensors travel:
 *
 *   AQ, BQ = quantize(A, B)           (the attempt's operand versions: exponents and noise
 *                                      streams as in op-quantize.ts)
 *   U, V, A0, B0   ← streams (keys U, V, A0, B0)
 *   E  = AQ − U,   F  = BQ − V                             → workers 0 and 1
 *   A1 = AQ − A0,  B1 = BQ − B0                            → worker 1
 *
 * (the output masks are drawn inside the fused reconstruction, see
 * secure-executor.ts and mask-source.ts).
 *
 * Which tensors an enclave needs depends on whom it feeds: in the `single`
 * topology one enclave feeds all workers; in `replicated`, replica 0 feeds
 * workers 0 and 2 (E, F and the header) and replica 1 feeds worker 1 (A1, B1,
 * E, F). Both replicas reconstruct every result.
 */
import { bilinearSizes } from '../backend/bilinear.js';
import { type EnclaveKernels, type StreamRef } from './enclave-kernels.js';
import type { Int32Buffers } from './managed-buffers.js';
import { noiseStream } from './op-quantize.js';
import { type MaskKeyName, type MaskKeys, SLOT_MAIN, opStreamId } from './op-streams.js';
import type { OperandUse } from './operands.js';
import type { OpAttempt } from './op-attempt.js';
import type { Feeds } from './feeds.js';

export interface PreparedAttempt {
  /** AQ and BQ (kept only when asked for: the replicas' divergence digest). */
  readonly aq: Int32Array | null;
  readonly bq: Int32Array | null;
  readonly e: Int32Array;
  readonly f: Int32Array;
  /** Worker 1's shares, when this enclave feeds worker 1. */
  readonly a1: Int32Array | null;
  readonly b1: Int32Array | null;
}

/** The stream (key `name`, this attempt, slot) as a kernel argument. */
export function maskStream<K extends MaskKeyName>(keys: Pick<MaskKeys, K>, name: K, at: OpAttempt): StreamRef {
  return { key: keys[name], id: opStreamId(at.layer, at.op.pass, at.attempt, SLOT_MAIN) };
}

/**
 * Steps 1–3 for one attempt, one fused sweep per operand (enclave-kernels.ts):
 * quantize (the operand version `ua`/`ub`, op-quantize.ts), mask and share together.
 * The paper's masks are drawn per op attempt, so a reused operand version is
 * quantized again (same values) and masked afresh. Buffers come from `pool`: a
 * NamedBuffers (valid until the next attempt) or the attempt's leases (managed memory).
 * With `quantized`, AQ and BQ are also written, into buffers from it (they outlive the sends).
 */
export function prepareAttempt(
  feeds: Feeds,
  keys: MaskKeys,
  noiseKey: Uint8Array,
  at: OpAttempt,
  ua: OperandUse,
  ub: OperandUse,
  a: Float32Array,
  b: Float32Array,
  pool: Int32Buffers,
  kernels: EnclaveKernels,
  quantized: Int32Buffers | null = null,
): PreparedAttempt {
  const sz = bilinearSizes(at.op);
  if (!feeds.w0 && !feeds.w1) throw new Error('prepareAttempt: this enclave feeds neither worker 0 nor worker 1');
  const side = (x: Float32Array, n: number, use: OperandUse, mask: MaskKeyName, share: MaskKeyName, tag: string) => {
    const noise = noiseStream(noiseKey, at.layer, use);
    const q = quantized ? quantized.int32(`e.${tag}q`, n) : null;
    const masked = pool.int32(`e.${tag}e`, n);
    const share1 = feeds.w1 ? pool.int32(`e.${tag}1`, n) : null;
    kernels.quantizeMaskShare(x, use.exp, noise, maskStream(keys, mask, at), share1 ? maskStream(keys, share, at) : null, q, masked, share1);
    return { q, masked, share1 };
  };
  const A = side(a, sz.a, ua, 'U', 'A0', 'a');
  const B = side(b, sz.b, ub, 'V', 'B0', 'b');
  return { aq: A.q, bq: B.q, e: A.masked, f: B.masked, a1: A.share1, b1: B.share1 };
}
