/**
 * The enclave's per-attempt work (DESIGN §3 steps 1–3 and the mask sum of
 * step 6), independent of how the tensors travel:
 *
 *   AQ, eA, BQ, eB = quantize(A, B)                        (op-quantize.ts)
 *   U, V, A0, B0   ← streams (keys U, V, A0, B0)
 *   E  = AQ − U,   F  = BQ − V                             → workers 0 and 1
 *   A1 = AQ − A0,  B1 = BQ − B0                            → worker 1
 *   M  = CM0 + CM1 + CMZ  ← streams                        (kept in the enclave)
 *
 * Which tensors an enclave needs depends on whom it feeds: in the `single`
 * topology one enclave feeds all workers; in `replicated`, replica 0 feeds
 * workers 0 and 2 (E, F and the header) and replica 1 feeds worker 1 (A1, B1,
 * E, F). Both replicas reconstruct every result.
 */
import { bilinearSizes } from '../backend/bilinear.js';
import { maskAndShare } from '../field/combine.js';
import { sumModP } from '../field/share.js';
import type { BufferPool } from './buffer-pool.js';
import { quantizeOperands } from './op-quantize.js';
import type { MaskKeys } from './op-streams.js';
import { type OpAttempt, drawMask } from './worker-compute.js';

/** Which worker requests this enclave builds. */
export interface Feeds {
  readonly w0: boolean;
  readonly w1: boolean;
  readonly w2: boolean;
}

export interface PreparedAttempt {
  readonly eA: number;
  readonly eB: number;
  /** AQ and BQ (kept for the replicas' divergence digest). */
  readonly aq: Int32Array;
  readonly bq: Int32Array;
  readonly e: Int32Array;
  readonly f: Int32Array;
  /** Worker 1's shares, when this enclave feeds worker 1. */
  readonly a1: Int32Array | null;
  readonly b1: Int32Array | null;
}

/** Steps 1–3 for one attempt. Buffers come from `pool` and are valid until the next attempt. */
export function prepareAttempt(
  feeds: Feeds,
  keys: MaskKeys,
  noiseKey: Uint8Array,
  at: OpAttempt,
  headroom: number,
  a: Float32Array,
  b: Float32Array,
  pool: BufferPool,
): PreparedAttempt {
  const sz = bilinearSizes(at.op);
  const aq = pool.int32('e.aq', sz.a);
  const bq = pool.int32('e.bq', sz.b);
  const { eA, eB } = quantizeOperands(noiseKey, at.layer, at.op.pass, at.attempt, headroom, a, b, aq, bq);
  const needMasked = feeds.w0 || feeds.w1;
  const e = pool.int32('e.e', needMasked ? sz.a : 0);
  const f = pool.int32('e.f', needMasked ? sz.b : 0);
  let a1: Int32Array | null = null;
  let b1: Int32Array | null = null;
  if (needMasked) {
    const u = drawMask(keys.U, at, pool.int32('e.u', sz.a));
    const v = drawMask(keys.V, at, pool.int32('e.v', sz.b));
    let a0: Int32Array | null = null;
    let b0: Int32Array | null = null;
    if (feeds.w1) {
      a0 = drawMask(keys.A0, at, pool.int32('e.a0', sz.a));
      b0 = drawMask(keys.B0, at, pool.int32('e.b0', sz.b));
      a1 = pool.int32('e.a1', sz.a);
      b1 = pool.int32('e.b1', sz.b);
    }
    maskAndShare(aq, u, a0, e, a1);
    maskAndShare(bq, v, b0, f, b1);
  }
  return { eA, eB, aq, bq, e, f, a1, b1 };
}

/** M = CM0 + CM1 + CMZ for this attempt, into a pooled buffer. */
export function outputMaskSum(keys: MaskKeys, at: OpAttempt, pool: BufferPool): Int32Array {
  const n = bilinearSizes(at.op).c;
  const m0 = drawMask(keys.CM0, at, pool.int32('e.cm0', n));
  const m1 = drawMask(keys.CM1, at, pool.int32('e.cm1', n));
  const mz = drawMask(keys.CMZ, at, pool.int32('e.cmz', n));
  return sumModP([m0, m1, mz], m0);
}
