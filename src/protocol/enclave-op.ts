/**
 * The enclave's per-attempt work before the requests go out (DESIGN §3 steps
 * 1–3), independent of how the tensors travel:
 *
 *   AQ, eA, BQ, eB = quantize(A, B)   (same exponents and noise streams as op-quantize.ts)
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
import { EXP_MAX } from '../field/quantize.js';
import { type EnclaveKernels, type StreamRef } from './enclave-kernels.js';
import type { Int32Buffers } from './managed-buffers.js';
import { type MaskKeyName, type MaskKeys, SLOT_MAIN, SLOT_NOISE_A, SLOT_NOISE_B, opStreamId } from './op-streams.js';
import type { OpAttempt } from './worker-compute.js';

/** Which worker requests this enclave builds. */
export interface Feeds {
  readonly w0: boolean;
  readonly w1: boolean;
  readonly w2: boolean;
}

export interface PreparedAttempt {
  readonly eA: number;
  readonly eB: number;
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
export function maskStream(keys: MaskKeys, name: MaskKeyName, at: OpAttempt): StreamRef {
  return { key: keys[name], id: opStreamId(at.layer, at.op.pass, at.attempt, SLOT_MAIN) };
}

/**
 * Steps 1–3 for one attempt, one fused sweep per operand (enclave-kernels.ts):
 * exponent from the max scan, then quantize, mask and share together. Buffers come
 * from `pool`: a BufferPool (valid until the next attempt) or the attempt's leases
 * (managed memory). `keepQuantized` also writes AQ, BQ.
 */
export function prepareAttempt(
  feeds: Feeds,
  keys: MaskKeys,
  noiseKey: Uint8Array,
  at: OpAttempt,
  headroom: number,
  a: Float32Array,
  b: Float32Array,
  pool: Int32Buffers,
  kernels: EnclaveKernels,
  keepQuantized = false,
): PreparedAttempt {
  const sz = bilinearSizes(at.op);
  if (!feeds.w0 && !feeds.w1) throw new Error('prepareAttempt: this enclave feeds neither worker 0 nor worker 1');
  const noise = (slot: number): StreamRef => ({ key: noiseKey, id: opStreamId(at.layer, at.op.pass, at.attempt, slot) });
  const side = (x: Float32Array, n: number, slot: number, mask: MaskKeyName, share: MaskKeyName, tag: string) => {
    const exp = Math.min(EXP_MAX, kernels.exponent(x) + headroom);
    const q = keepQuantized ? pool.int32(`e.${tag}q`, n) : null;
    const masked = pool.int32(`e.${tag}e`, n);
    const share1 = feeds.w1 ? pool.int32(`e.${tag}1`, n) : null;
    kernels.quantizeMaskShare(x, exp, noise(slot), maskStream(keys, mask, at), share1 ? maskStream(keys, share, at) : null, q, masked, share1);
    return { exp, q, masked, share1 };
  };
  const A = side(a, sz.a, SLOT_NOISE_A, 'U', 'A0', 'a');
  const B = side(b, sz.b, SLOT_NOISE_B, 'V', 'B0', 'b');
  return { eA: A.exp, eB: B.exp, aq: A.q, bq: B.q, e: A.masked, f: B.masked, a1: A.share1, b1: B.share1 };
}
